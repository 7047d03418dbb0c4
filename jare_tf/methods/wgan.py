"""WGAN with weight clipping (Arjovsky et al. 2017; Mescheder et al. 2018, Sec. 3.1 and Lemma 3.1).

The game uses the WGAN loss family, g1(t) = g2(−t) = t, so f = E D(x) − E D(G(z)). The directions are plain
gradients: simultaneous with n_d = 1, otherwise n_d discriminator steps before each generator step. After every
step each discriminator parameter is projected onto [−c, c]. On the Dirac-GAN it does not converge for any fixed
step size (Lemma 3.1).
"""

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base
from jare_tf.methods.gan import SimGD


@base.register("wgan")
class WGAN(SimGD):
    required_family = "wgan"

    def __init__(self, gamma: float = 0.0, clip: float = 0.01, n_d: int = 1):
        super().__init__(gamma)
        if clip <= 0:
            raise ValueError(f"wgan needs a clipping bound clip > 0, got {clip}.")
        self.clip, self.n_d = float(clip), int(n_d)

    def stages(self):
        return base.discriminator_first(self.n_d)

    def project(self, params):
        return Players(params.g, [tf.clip_by_value(t, -self.clip, self.clip) for t in params.d])
