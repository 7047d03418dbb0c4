"""Image architectures: parameter counts (reference_spec A.3), golden forward passes written here with tf.nn from
the spec's layer lists (A.4), output shapes and ranges, and setting A's batch-statistics BN."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf.models import architectures

COUNTS = {  # reference_spec A.3 (G, D); SN variants have the same trainable counts.
    "conv4": (3811459, 2935873), "conv4_nobn": (3811459, 2935873), "dcgan4_nobn": (345219, 312513),
    "resnet_v1": (343779, 384929), "resnet_v2": (441507, 384929),
}


def count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


@pytest.mark.parametrize("name", sorted(COUNTS))
@pytest.mark.parametrize("sn", [False, True])
def test_parameter_counts(name, sn):
    g, d = architectures.build(name, 128, spectral_norm=sn)
    assert (count(g), count(d)) == COUNTS[name]
    assert (len(d.non_trainable_variables) > 0) == sn and not g.non_trainable_variables   # u only, in D


# What one image channel instead of three removes, from the layer lists of reference_spec A.4: G's last layer
# (kernel k×k×c_in×C, a bias of C unless BN follows, then BN's β of C) and D's first conv (k×k×C×filters).
# (G last kernel area, its input channels, has bias, has BN; D first kernel area, its filters)
LAYER_ENDS = {
    "conv4": (3 * 3, 64, False, True, 3 * 3, 64), "conv4_nobn": (3 * 3, 64, True, False, 3 * 3, 64),
    "dcgan4_nobn": (5 * 5, 64, True, False, 5 * 5, 64),
    "resnet_v1": (4 * 4, 64, True, False, 4 * 4, 64), "resnet_v2": (3 * 3, 64, True, False, 4 * 4, 64),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
@pytest.mark.parametrize("sn", [False, True])
def test_parameter_counts_of_the_one_channel_variants(name, sn):
    g_area, g_in, g_bias, g_bn, d_area, d_filters = LAYER_ENDS[name]
    per_channel_g = g_area * g_in + int(g_bias) + int(g_bn)
    per_channel_d = d_area * d_filters
    g, d = architectures.build(name, 128, spectral_norm=sn, channels=1)
    assert (count(g), count(d)) == (COUNTS[name][0] - 2 * per_channel_g, COUNTS[name][1] - 2 * per_channel_d)
    assert g.output_shape[-1] == 1 and d.input_shape[-1] == 1


def randomise(model, seed):
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        scale = 0.05 if len(v.shape) == 1 else float(np.sqrt(2.0 / np.prod(v.shape[:-1])))
        v.assign(rng.standard_normal(v.shape).astype(np.float32) * scale)


def kb(model, name):
    layer = model.get_layer(name)
    return layer.kernel, (layer.bias if layer.use_bias else None)


def ref_conv(x, model, name, stride):
    k, b = kb(model, name)
    y = tf.nn.conv2d(x, k, stride, "SAME")
    return y if b is None else y + b


def ref_deconv(x, model, name, stride):
    k, b = kb(model, name)
    shape = [x.shape[0], x.shape[1] * stride, x.shape[2] * stride, k.shape[2]]
    y = tf.nn.conv2d_transpose(x, k, shape, stride, "SAME")
    return y if b is None else y + b


def ref_dense(x, model, name):
    k, b = kb(model, name)
    y = tf.matmul(x, k)
    return y if b is None else y + b


def ref_bn(x, beta):
    axes = list(range(len(x.shape) - 1))
    mean = tf.reduce_mean(x, axes, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axes, keepdims=True)
    return (x - mean) / tf.sqrt(var + 1e-3) + beta


def lrelu(x):
    return tf.maximum(x, 0.1 * x)


def ref_conv4_g(g, z, bn):
    def post(x, name):
        return tf.nn.relu(ref_bn(x, g.get_layer(f"bn_{name}").beta) if bn else x)
    x = tf.reshape(post(ref_dense(z, g, "fc"), "fc"), [-1, 4, 4, 512])
    for i in range(3):
        x = post(ref_deconv(x, g, f"deconv{i}", 2), f"deconv{i}")
    x = ref_conv(x, g, "out", 1)
    return tf.tanh(ref_bn(x, g.get_layer("bn_out").beta) if bn else x)


def ref_conv4_d(d, x):
    for i, (k, s, c) in enumerate(((3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256),
                                   (3, 1, 512))):
        assert d.get_layer(f"conv{i}").kernel.shape == (k, k, x.shape[-1], c)
        x = lrelu(ref_conv(x, d, f"conv{i}", s))
    return ref_dense(tf.reshape(x, [x.shape[0], -1]), d, "fc")


def ref_dcgan_g(g, z):
    x = tf.reshape(tf.nn.relu(ref_dense(z, g, "fc")), [-1, 2, 2, 64])
    for i in range(3):
        x = tf.nn.relu(ref_deconv(x, g, f"deconv{i}", 2))
    return tf.tanh(ref_deconv(x, g, "out", 2))


def ref_dcgan_d(d, x):
    for i in range(4):
        x = lrelu(ref_conv(x, d, f"conv{i}", 2))
    return ref_dense(tf.reshape(x, [x.shape[0], -1]), d, "fc")


def ref_block(model, x, name, mid):
    assert model.get_layer(f"{name}_conv0").kernel.shape[-1] == mid
    r = tf.nn.relu(ref_conv(x, model, f"{name}_conv0", 1))
    return x + 0.1 * tf.nn.relu(ref_conv(r, model, f"{name}_conv1", 1))


def ref_resnet_g(g, z, start, n, last):
    x = tf.reshape(tf.nn.relu(ref_dense(z, g, "fc")), [-1, start, start, 64])
    for i in range(n):
        x = ref_block(g, tf.nn.relu(ref_deconv(x, g, f"deconv{i}", 2)), f"block{i}", 32)
    x = ref_deconv(x, g, "out", 2) if last == "deconv" else ref_conv(x, g, "out", 1)
    return tf.tanh(x)


def ref_resnet_d(d, x, n):
    for i in range(n):
        x = ref_block(d, tf.nn.relu(ref_conv(x, d, f"conv{i}", 2)), f"block{i}", 64 if i == 0 else 32)
    assert x.shape[1:] == (2, 2, 64)
    return ref_dense(tf.reshape(x, [x.shape[0], -1]), d, "fc")


GOLDEN = {
    "conv4": (lambda g, z: ref_conv4_g(g, z, True), ref_conv4_d),
    "conv4_nobn": (lambda g, z: ref_conv4_g(g, z, False), ref_conv4_d),
    "dcgan4_nobn": (ref_dcgan_g, ref_dcgan_d),
    "resnet_v1": (lambda g, z: ref_resnet_g(g, z, 2, 3, "deconv"), lambda d, x: ref_resnet_d(d, x, 4)),
    "resnet_v2": (lambda g, z: ref_resnet_g(g, z, 4, 3, "conv"), lambda d, x: ref_resnet_d(d, x, 4)),
    "resnet_celeba": (lambda g, z: ref_resnet_g(g, z, 4, 4, "conv"), lambda d, x: ref_resnet_d(d, x, 5)),
    "resnet_imagenet": (lambda g, z: ref_resnet_g(g, z, 4, 5, "conv"), lambda d, x: ref_resnet_d(d, x, 6)),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_forward(name):
    g, d = architectures.build(name, 128)
    randomise(g, 1)
    randomise(d, 2)
    size = architectures.image_size(name)
    z = tf.random.stateless_normal([3, 128], [1, 2])
    x = tf.random.stateless_uniform([3, size, size, 3], [3, 4], -1.0, 1.0)
    ref_g, ref_d = GOLDEN[name]
    out = g(z, training=True)
    np.testing.assert_allclose(out, ref_g(g, z), rtol=1e-5, atol=1e-5)
    assert out.shape == (3, size, size, 3)
    assert float(tf.reduce_max(tf.abs(out))) <= 1.0
    np.testing.assert_allclose(d(x, training=True), ref_d(d, x), rtol=1e-5, atol=1e-5)


def test_golden_tests_catch_a_wrong_slope():
    """The reference would notice Keras' default LeakyReLU slope (0.3) instead of 0.1."""
    g, d = architectures.build("dcgan4_nobn", 128)
    randomise(d, 2)
    x = tf.random.stateless_uniform([3, 32, 32, 3], [3, 4], -1.0, 1.0)
    wrong = x
    for i in range(4):
        h = ref_conv(wrong, d, f"conv{i}", 2)
        wrong = tf.maximum(h, 0.3 * h)
    wrong = ref_dense(tf.reshape(wrong, [3, -1]), d, "fc")
    assert np.max(np.abs(d(x).numpy() - wrong.numpy())) > 1e-3


def test_setting_a_batch_norm_uses_batch_statistics_always():
    g, _ = architectures.build("conv4", 128)
    randomise(g, 3)
    z = tf.random.stateless_normal([8, 128], [5, 6])
    np.testing.assert_allclose(g(z, training=False), g(z, training=True), rtol=1e-6)
    # Batch statistics: a sample's output depends on the rest of its batch.
    assert np.max(np.abs(g(z[:4]).numpy() - g(z).numpy()[:4])) > 1e-4
    assert not g.non_trainable_variables                   # no moving statistics at all


def test_unknown_architecture():
    with pytest.raises(ValueError, match="Unknown architecture"):
        architectures.build("resnet_v3")
