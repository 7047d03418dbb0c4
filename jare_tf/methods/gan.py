"""SimGD ("GAN" in the paper's figures): both players step simultaneously from one minibatch.

JARE paper eq. (2)/(5): φ ← φ − η∇_φ f, θ ← θ + η∇_θ f; in loss form u_φ = ∇_φ L_G, u_θ = ∇_θ L_D, with the
non-saturating L_G where the setting uses it (reference_spec B.1). No regulariser.
"""

from jare_tf.games.game import Players
from jare_tf.methods import base


@base.register("gan")
class SimGD(base.Method):
    """u_φ = g_φ, u_θ = g_θ."""

    uses_gamma = False

    def directions(self, game, params, state, batch, stage=base.SIMULTANEOUS[0], reducer=base.LOCAL):
        self.check_game(game)
        fo = base.first_order(game, params, state, batch, players=stage.players)
        return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)
