"""Zero-centred gradient penalties on the discriminator's input gradient (Mescheder et al. 2018, eq. 9–10).

    R1(θ) = (γ/2) E_{p_D}‖∇_x D_θ(x)‖²,      R2(θ) = (γ/2) E_{p_φ}‖∇_x D_θ(x)‖².

u_θ = g_θ + ∇_θ R, u_φ = g_φ. The input gradients come from the main forward pass (the real or the fake batch
that L_D already uses), so the penalty adds no discriminator call and no layer-state update. R2 is taken at the
current fake samples and only enters the discriminator's direction: the generator gets no gradient from it,
as in the reference, which detaches the fake batch (reference_spec F.1). On the Dirac-GAN both give the
eigenvalues −γ/2 ± √(γ²/4 − f′(0)²) of Lemma 3.3.

Weight convention: the paper's γ/2. GAN_stability's image code omits the ½ (its reg_param = γ/2, so its default
reg_param = 10 is γ = 20 here) while its Dirac-GAN code keeps it (reference_spec F.1–F.2).
"""

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base, lazy


def penalty(gamma: float, input_gradient: tf.Tensor) -> tf.Tensor:
    """(γ/2) · batch mean of the per-example ‖∇_x D‖²."""
    per_example = tf.reduce_sum(tf.reshape(tf.square(input_gradient), [tf.shape(input_gradient)[0], -1]), axis=1)
    return 0.5 * base.scalar(gamma, per_example.dtype) * tf.reduce_mean(per_example)


class ZeroCentredPenalty(lazy.LazyRegularised):
    #: "real" (R1) or "fake" (R2).
    samples = ""

    def regularised(self, game, params, state, batch, stage, reducer, gamma):
        self.check_game(game)
        fo = base.first_order(game, params, state, batch,
                              d_penalty=lambda p: penalty(gamma, p.input_gradient(self.samples)),
                              watch_inputs=True)
        return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)
