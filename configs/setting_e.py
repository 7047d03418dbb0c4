"""Setting E: ResNet v1 (JARE paper Table 2; reference resnet_v1), Adam."""

from . import image


def get_config():
    return image.base("setting_e", "resnet_v1")
