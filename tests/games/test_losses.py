"""Loss families of Sec. 3.1 against their formulas written out in numpy."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf.games import losses

RNG = np.random.default_rng(3)
D_REAL = RNG.standard_normal(7)
D_FAKE = RNG.standard_normal(5)


def np_log_sigmoid(t):
    return -np.log1p(np.exp(-t))


@pytest.mark.parametrize("family, g1, g2", [
    ("vanilla", np_log_sigmoid, lambda t: np_log_sigmoid(-t)),   # g1(t) = g2(−t) = −log(1 + e^{−t})
    ("wgan", lambda t: t, lambda t: -t),
    ("reverse_kl", lambda t: -np.exp(-t), lambda t: 1 - t),
])
def test_value_and_losses(family, g1, g2):
    fam = losses.get_family(family)
    f = np.mean(g1(D_REAL)) + np.mean(g2(D_FAKE))
    args = (tf.constant(D_REAL), tf.constant(D_FAKE))
    np.testing.assert_allclose(losses.value(fam, *args), f, rtol=1e-12)
    np.testing.assert_allclose(losses.discriminator_loss(fam, *args), -f, rtol=1e-12)
    np.testing.assert_allclose(losses.generator_loss(fam, "minimax", *args), f, rtol=1e-12)
    np.testing.assert_allclose(losses.generator_loss(fam, "non_saturating", *args), -np.mean(g1(D_FAKE)),
                               rtol=1e-12)


def test_vanilla_is_binary_cross_entropy():
    """L_D = E softplus(−D(x)) + E softplus(D(G(z))), L_G^NS = E softplus(−D(G(z))) (reference_spec §0)."""
    fam = losses.get_family("vanilla")
    args = (tf.constant(D_REAL), tf.constant(D_FAKE))
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    np.testing.assert_allclose(losses.discriminator_loss(fam, *args),
                               np.mean(softplus(-D_REAL)) + np.mean(softplus(D_FAKE)), rtol=1e-12)
    np.testing.assert_allclose(losses.generator_loss(fam, "non_saturating", *args),
                               np.mean(softplus(-D_FAKE)), rtol=1e-12)


def test_assumption_2_derivatives_at_zero():
    """g1′(0) = −g2′(0) ≠ 0 and g1″(0) + g2″(0) < 0 (Assumption 2) for every family but WGAN (linear)."""
    for name, fam in losses.FAMILIES.items():
        t = tf.Variable(tf.zeros([], tf.float64))
        with tf.GradientTape(persistent=True) as outer:
            with tf.GradientTape(persistent=True) as inner:
                y1, y2 = fam.g1(t), fam.g2(t)
            d1, d2 = inner.gradient(y1, t), inner.gradient(y2, t)
        dd = outer.gradient(d1, t, unconnected_gradients="zero") + outer.gradient(d2, t, unconnected_gradients="zero")
        assert abs(float(d1) + float(d2)) < 1e-12 and float(d1) != 0, name
        if name != "wgan":
            assert float(dd) < 0, name


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="Unknown loss family"):
        losses.get_family("hinge")
    with pytest.raises(ValueError, match="Unknown generator loss"):
        losses.generator_loss(losses.get_family("vanilla"), "nsgan", tf.zeros(1), tf.zeros(1))
