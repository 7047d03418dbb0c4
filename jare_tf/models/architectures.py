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

# name: (generator(z_dim), discriminator(spectral_norm), image size)
ARCHITECTURES: Dict[str, Tuple[Callable[..., keras.Model], Callable[[bool], keras.Model], int]] = {
    "conv4": (lambda z, sync=False: cnn.conv4_generator(z, batch_norm=True, sync_batch_norm=sync),
              lambda sn: cnn.conv4_discriminator(sn, normalise_last=True), 32),
    # conv4_sn_nobn leaves its final Dense un-normalised (reference_spec A.4 [DISCREPANCY]).
    "conv4_nobn": (lambda z: cnn.conv4_generator(z, batch_norm=False),
                   lambda sn: cnn.conv4_discriminator(sn, normalise_last=False), 32),
    "dcgan4_nobn": (dcgan.dcgan_generator, dcgan.dcgan_discriminator, 32),
    "resnet_v1": (lambda z: resnet.resnet_generator(2, 3, "deconv", z),
                  lambda sn: resnet.resnet_discriminator(32, sn), 32),
    "resnet_v2": (lambda z: resnet.resnet_generator(4, 3, "conv", z),
                  lambda sn: resnet.resnet_discriminator(32, sn), 32),
    "resnet_celeba": (lambda z: resnet.resnet_generator(4, 4, "conv", z),
                      lambda sn: resnet.resnet_discriminator(64, sn), 64),
    "resnet_imagenet": (lambda z: resnet.resnet_generator(4, 5, "conv", z),
                        lambda sn: resnet.resnet_discriminator(128, sn), 128),
}


#: Architectures with batch normalisation (whose statistics may be synchronised across replicas).
BATCH_NORM = ("conv4",)


def build(name: str, z_dim: int = 128, spectral_norm: bool = False,
          sync_batch_norm: bool = False) -> Tuple[keras.Model, keras.Model]:
    """(generator, discriminator) of an architecture; the SN variant normalises the discriminator only.
    sync_batch_norm: batch statistics over all replicas' examples instead of each replica's own (conv4 only)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}.")
    make_g, make_d, _ = ARCHITECTURES[name]
    if sync_batch_norm:
        if name not in BATCH_NORM:
            raise ValueError(f"sync_batch_norm=True, but {name} has no batch normalisation (only "
                             f"{', '.join(BATCH_NORM)} has: setting A).")
        return make_g(z_dim, sync=True), make_d(spectral_norm)
    return make_g(z_dim), make_d(spectral_norm)


def image_size(name: str) -> int:
    return ARCHITECTURES[name][2]
