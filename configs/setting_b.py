"""Setting B: the SN-GAN standard CNN without batch normalisation (conv4_nobn), Adam."""

from . import image


def get_config():
    return image.base("setting_b", "conv4_nobn")
