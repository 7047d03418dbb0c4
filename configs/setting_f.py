"""Setting F: ResNet v2 (JARE paper Table 3; reference resnet_v2), Adam."""

from . import image


def get_config():
    return image.base("setting_f", "resnet_v2")
