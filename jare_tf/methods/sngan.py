"""SN-GAN as the JARE paper runs it: SimGD on a spectrally normalised discriminator (reference_spec B.3).

The update rule is SimGD's (`gan.py`); the difference is the discriminator, which the setting's config builds
with spectral normalisation when `spectral_norm_discriminator` is set (Miyato et al.'s own recipe, n_dis = 5
and the hinge loss, is not what the paper uses).
"""

from jare_tf.methods import base
from jare_tf.methods.gan import SimGD


@base.register("sngan")
class SNGAN(SimGD):
    spectral_norm_discriminator = True
