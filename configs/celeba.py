"""CelebA 64×64 with the ResNet of Table 4 (JARE paper Appendix F.5, Fig. 10a).

The paper gives only "a similar training setup" for this run: every value below that is not in Table 4 is this
project's choice, taken from the CIFAR settings (Adam β = (0.5, 0.999), lr 1e-4, batch 64, z 128-d, JARE γ = 100).
"""

from . import image


def get_config():
    c = image.base("celeba", "resnet_celeba")
    c.dataset = "celeb_a"
    c.image_size = 64
    return c
