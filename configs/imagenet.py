"""ImageNet 128×128 (ILSVRC2012) with the ResNet of Table 5 (JARE paper Appendix F.5, Fig. 10b).

As for CelebA, the paper gives only "a similar training setup": the values not in Table 5 are this project's
choice, taken from the CIFAR settings.
"""

from . import image


def get_config():
    c = image.base("imagenet", "resnet_imagenet")
    c.dataset = "imagenet2012"
    c.image_size = 128
    return c
