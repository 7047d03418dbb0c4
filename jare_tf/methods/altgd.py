"""AltGD: alternating gradient steps, n_d discriminator steps and n_g generator steps per iteration.

Mescheder et al. 2018 (Sec. 2.1) and the ConOpt / GAN_stability / Nagarajan–Kolter code take the D steps first
(the default here, `order="d_first"`). The JARE reference code runs G then D and builds G's Adam with β1 = 0.9
instead of 0.5 (reference_spec B.2, G.1): `order="g_first", g_beta1=0.9` reproduces it. Each stage's
direction is the plain gradient of the moving player's loss, evaluated after the previous stage's update
(the trainer draws a fresh minibatch for each stage, as the reference does).
"""

from typing import Optional

from jare_tf.games.game import Players
from jare_tf.methods import base

ORDERS = ("d_first", "g_first")


@base.register("altgd")
class AltGD(base.Method):
    """Stages: [D × n_d, G × n_g] (d_first) or [G × n_g, D × n_d] (g_first)."""

    uses_gamma = False

    def __init__(self, gamma: float = 0.0, n_d: int = 1, n_g: int = 1, order: str = "d_first",
                 g_beta1: Optional[float] = None):
        super().__init__(gamma)
        if n_d < 1 or n_g < 1:
            raise ValueError(f"altgd needs n_d >= 1 and n_g >= 1, got n_d={n_d}, n_g={n_g}.")
        if order not in ORDERS:
            raise ValueError(f"Unknown altgd order {order!r}; choose one of {ORDERS}.")
        self.n_d, self.n_g, self.order, self.g_beta1 = int(n_d), int(n_g), order, g_beta1

    def stages(self):
        d, g = base.Stage(("d",), self.n_d), base.Stage(("g",), self.n_g)
        return (d, g) if self.order == "d_first" else (g, d)

    def directions(self, game, params, state, batch, stage=None, reducer=base.LOCAL):
        if stage is None or len(stage.players) != 1:
            raise ValueError("altgd moves one player per stage; pass one of altgd.stages().")
        fo = base.first_order(game, params, state, batch, players=stage.players)
        return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)

    def optimizer_overrides(self):
        return Players({} if self.g_beta1 is None else {"beta_1": self.g_beta1}, {})
