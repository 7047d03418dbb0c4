"""The reference spectral normalisation: σ from the power iteration against numpy's SVD, gradients through σ
against finite differences, u updated on every call, and the final-Dense exception of conv4_sn_nobn."""

import keras
import numpy as np
import tensorflow as tf

from jare_tf.models import architectures
from jare_tf.models.spectral_norm import SNConv2D, SNDense, power_iteration


def test_power_iteration_converges_to_the_largest_singular_value():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 4, 6))
    u = tf.constant(rng.standard_normal((1, 6)))
    for _ in range(300):
        sigma, u = power_iteration(tf.constant(kernel), u)
    np.testing.assert_allclose(float(sigma), np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0], rtol=1e-6)


def test_one_iteration_matches_the_formula():
    rng = np.random.default_rng(1)
    w, u = rng.standard_normal((12, 5)), rng.standard_normal((1, 5))
    n = lambda a: a / (np.linalg.norm(a) + 1e-12)  # noqa: E731
    v = n(u @ w.T)
    u_new = n(v @ w)
    sigma, u_tf = power_iteration(tf.constant(w), tf.constant(u))
    np.testing.assert_allclose(u_tf, u_new, rtol=1e-12)
    np.testing.assert_allclose(float(sigma), (v @ w @ u_new.T).item(), rtol=1e-12)


def test_layer_divides_by_sigma_updates_u_every_call_and_trains_the_raw_kernel():
    layer = SNDense(3, dtype="float64")
    x = tf.constant(np.random.default_rng(2).standard_normal((4, 5)))
    layer.build((None, 5))
    u0 = layer.u.numpy().copy()
    w = layer.kernel.numpy()
    y = layer(x).numpy()
    sigma, u1 = power_iteration(tf.constant(w), tf.constant(u0))
    np.testing.assert_allclose(y, x.numpy() @ (w / float(sigma)) + layer.bias.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.u.numpy(), u1, rtol=1e-12)
    layer(x)
    assert not np.allclose(layer.u.numpy(), u1)              # advanced again on the second call
    assert [v.name for v in layer.trainable_variables] == ["kernel", "bias"]
    np.testing.assert_array_equal(layer.kernel.numpy(), w)   # W itself is not overwritten


def test_gradient_flows_through_sigma():
    """d/dW of a loss of W/σ(W) (σ from one power iteration with fixed u) against central differences."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((2, 2, 2, 3))
    u = tf.constant(rng.standard_normal((1, 3)))
    x = tf.constant(rng.standard_normal((2, 4, 4, 2)))

    def loss(w):
        sigma, _ = power_iteration(w, u)
        y = tf.nn.conv2d(x, w / sigma, 1, "SAME")
        return tf.reduce_sum(tf.sin(y))

    w = tf.constant(w0)
    with tf.GradientTape() as tape:
        tape.watch(w)
        value = loss(w)
    grad = tape.gradient(value, w).numpy()
    fd = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[idx] = 1e-6
        fd[idx] = (float(loss(tf.constant(w0 + e))) - float(loss(tf.constant(w0 - e)))) / 2e-6
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # Without the σ path the gradient would differ: σ depends on W.
    plain = tf.GradientTape()
    with plain:
        plain.watch(w)
        sigma = tf.stop_gradient(power_iteration(w, u)[0])
        value = tf.reduce_sum(tf.sin(tf.nn.conv2d(x, w / sigma, 1, "SAME")))
    assert np.max(np.abs(plain.gradient(value, w).numpy() - fd)) > 1e-3


def test_u_starts_from_a_unit_truncated_normal():
    layer = SNConv2D(64, 3)
    layer.build((None, 8, 8, 64))
    u = layer.u.numpy()
    assert u.shape == (1, 64) and np.max(np.abs(u)) <= 2.0 and 0.5 < np.std(u) < 1.2


def test_which_discriminator_layers_are_normalised():
    _, d = architectures.build("conv4", 128, spectral_norm=True)
    assert isinstance(d.get_layer("fc"), SNDense)
    _, d = architectures.build("conv4_nobn", 128, spectral_norm=True)
    assert not isinstance(d.get_layer("fc"), SNDense) and isinstance(d.get_layer("conv6"), SNConv2D)
    _, d = architectures.build("resnet_v1", 128, spectral_norm=True)
    assert isinstance(d.get_layer("block3_conv1"), SNConv2D) and isinstance(d.get_layer("fc"), SNDense)
    g, _ = architectures.build("resnet_v1", 128, spectral_norm=True)
    assert not g.non_trainable_variables and not any(isinstance(l, keras.layers.Layer) and
                                                     hasattr(l, "u") for l in g.layers)
