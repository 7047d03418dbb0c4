"""Architectures by name, as the setting configs refer to them (reference_spec A.3/A.4; JARE paper Tables 2–5).

Layer-state rule for every architecture (reference_spec A.4, A.5): `jare_tf.games.Game` calls the discriminator
separately on the real and on the fake batch, so a spectral-norm u advances twice per step, as in the reference;
setting A's BN has no state (batch statistics always). Forward passes that only this project makes — WGAN-GP's
interpolates — are evaluated statelessly and their state updates discarded; R1/R2 take their input gradients from
the main passes. tests/models/test_image_methods.py checks the rule.
"""

from typing import Callable, Dict, Tuple

import keras

from jare_tf.models import cnn, dcgan, resnet

# name: (generator(z_dim, channels, sync), discriminator(spectral_norm, channels), image size). The channel count
# comes from the data (3 for CIFAR-10, CelebA and ImageNet, 1 for Fashion-MNIST): G's last layer makes it and
# D's first layer takes it.
ARCHITECTURES: Dict[str, Tuple[Callable[..., keras.Model], Callable[[bool, int], keras.Model], int]] = {
    "conv4": (lambda z, c, sync: cnn.conv4_generator(z, batch_norm=True, sync_batch_norm=sync, channels=c),
              lambda sn, c: cnn.conv4_discriminator(sn, normalise_last=True, channels=c), 32),
    # conv4_sn_nobn leaves its final Dense un-normalised (reference_spec A.4 [DISCREPANCY]).
    "conv4_nobn": (lambda z, c, sync: cnn.conv4_generator(z, batch_norm=False, channels=c),
                   lambda sn, c: cnn.conv4_discriminator(sn, normalise_last=False, channels=c), 32),
    "dcgan4_nobn": (lambda z, c, sync: dcgan.dcgan_generator(z, channels=c),
                    lambda sn, c: dcgan.dcgan_discriminator(sn, channels=c), 32),
    "resnet_v1": (lambda z, c, sync: resnet.resnet_generator(2, 3, "deconv", z, channels=c),
                  lambda sn, c: resnet.resnet_discriminator(32, sn, channels=c), 32),
    "resnet_v2": (lambda z, c, sync: resnet.resnet_generator(4, 3, "conv", z, channels=c),
                  lambda sn, c: resnet.resnet_discriminator(32, sn, channels=c), 32),
    "resnet_celeba": (lambda z, c, sync: resnet.resnet_generator(4, 4, "conv", z, channels=c),
                      lambda sn, c: resnet.resnet_discriminator(64, sn, channels=c), 64),
    "resnet_imagenet": (lambda z, c, sync: resnet.resnet_generator(4, 5, "conv", z, channels=c),
                        lambda sn, c: resnet.resnet_discriminator(128, sn, channels=c), 128),
}


#: Architectures with batch normalisation (whose statistics may be synchronised across replicas).
BATCH_NORM = ("conv4",)


def build(name: str, z_dim: int = 128, spectral_norm: bool = False, sync_batch_norm: bool = False,
          channels: int = 3) -> Tuple[keras.Model, keras.Model]:
    """(generator, discriminator) of an architecture for images with `channels` channels; the SN variant
    normalises the discriminator only. sync_batch_norm: batch statistics over all replicas' examples instead of
    each replica's own (conv4 only)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}.")
    make_g, make_d, _ = ARCHITECTURES[name]
    if sync_batch_norm and name not in BATCH_NORM:
        raise ValueError(f"sync_batch_norm=True, but {name} has no batch normalisation (only "
                         f"{', '.join(BATCH_NORM)} has: setting A).")
    if channels <= 0:
        raise ValueError(f"channels must be positive, got {channels}.")
    return make_g(z_dim, channels, sync_batch_norm), make_d(spectral_norm, channels)


def image_size(name: str) -> int:
    return ARCHITECTURES[name][2]
