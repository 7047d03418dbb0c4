"""Loss families of the two-player GAN game (JARE paper, Sec. 3.1, eq. 1).

The game value is

    f(φ, θ) = E_{x~P_r}[g1(D_θ(x))] + E_{z~P_0}[g2(D_θ(G_φ(z)))],

with D_θ returning a real-valued logit and g1, g2 concave. The discriminator θ ascends f and the generator φ
descends it, so in loss form

    L_D = −f,        L_G = f (minimax, "zero-sum")   or   L_G = −E_z[g1(D(G(z)))] (non-saturating).

For the vanilla GAN g1(t) = g2(−t) = −log(1 + e^{−t}), which gives the non-saturating loss
E softplus(−D(G(z))) of Goodfellow et al. 2014; for WGAN g1(t) = g2(−t) = t; for the reverse-KL f-GAN
g1(t) = −e^{−t}, g2(t) = 1 − t (Sec. 3.1, footnote 1 of the paper).
"""

import dataclasses
from typing import Callable, Dict

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class LossFamily:
    """A pair of concave functions (g1, g2) of the discriminator logit (Sec. 3.1)."""

    name: str
    g1: Callable[[tf.Tensor], tf.Tensor]
    g2: Callable[[tf.Tensor], tf.Tensor]


def _neg_softplus_neg(t):
    return -tf.nn.softplus(-t)


def _neg_softplus(t):
    return -tf.nn.softplus(t)


# Named functions, not lambdas: AutoGraph cannot tell two lambdas on one source line apart (it warns, twice).
def _identity(t):
    return t


def _negative(t):
    return -t


def _neg_exp_neg(t):
    return -tf.exp(-t)


def _one_minus(t):
    return 1.0 - t


FAMILIES: Dict[str, LossFamily] = {
    # g1(t) = g2(−t) = −log(1 + e^{−t}).
    "vanilla": LossFamily("vanilla", g1=_neg_softplus_neg, g2=_neg_softplus),
    # g1(t) = g2(−t) = t.
    "wgan": LossFamily("wgan", g1=_identity, g2=_negative),
    # g1(t) = −e^{−t}, g2(t) = 1 − t.
    "reverse_kl": LossFamily("reverse_kl", g1=_neg_exp_neg, g2=_one_minus),
}

GENERATOR_LOSSES = ("minimax", "non_saturating")


def get_family(name: str) -> LossFamily:
    if name not in FAMILIES:
        raise ValueError(f"Unknown loss family {name!r}; choose one of {sorted(FAMILIES)}.")
    return FAMILIES[name]


def value(family: LossFamily, d_real: tf.Tensor, d_fake: tf.Tensor) -> tf.Tensor:
    """f = E_B g1(D(x)) + E_B g2(D(G(z))) from the logits of a real and a fake batch (eq. 1)."""
    return tf.reduce_mean(family.g1(d_real)) + tf.reduce_mean(family.g2(d_fake))


def discriminator_loss(family: LossFamily, d_real: tf.Tensor, d_fake: tf.Tensor) -> tf.Tensor:
    """L_D = −f: the discriminator ascends f."""
    return -value(family, d_real, d_fake)


def generator_loss(family: LossFamily, kind: str, d_real: tf.Tensor, d_fake: tf.Tensor) -> tf.Tensor:
    """L_G for `kind` in GENERATOR_LOSSES.

    "minimax": L_G = f (zero-sum; its φ-gradient only involves the fake term).
    "non_saturating": L_G = −E_B g1(D(G(z))): the generator maximises the "real" utility of its samples
    (for the vanilla family, E_B softplus(−D(G(z)))).
    """
    if kind == "minimax":
        return value(family, d_real, d_fake)
    if kind == "non_saturating":
        return -tf.reduce_mean(family.g1(d_fake))
    raise ValueError(f"Unknown generator loss {kind!r}; choose one of {GENERATOR_LOSSES}.")
