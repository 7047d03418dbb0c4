"""Setting C: the DCGAN-like model with a constant number of filters (dcgan4_nobn), Adam."""

from . import image


def get_config():
    return image.base("setting_c", "dcgan4_nobn")
