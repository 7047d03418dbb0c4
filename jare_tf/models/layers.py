"""Layers the reference networks need that Keras does not provide as such."""

import keras
import tensorflow as tf
from keras import ops


class BatchStatsNorm(keras.layers.Layer):
    """Setting A's batch normalisation: slim.batch_norm with its defaults as the reference calls it
    (reference_spec A.4, G.2): batch statistics always — in training and when sampling for IS/FID —, an offset β
    and no scale (center=True, scale=False), ε = 1e-3 inside the root, statistics over every axis but the last
    (over the batch for the 8192 dense features, over batch and space for feature maps). The reference never runs
    the moving-average updates, so this layer keeps no moving statistics and has no state at all; its backward
    pass through the batch moments is plain differentiable ops, so double backprop (JARE, ConOpt) is exact.

    Under tf.distribute the statistics are, by default, those of each replica's own examples (the usual
    data-parallel behaviour; R replicas then train a slightly different model than one device on the global
    batch). With `sync=True` the mean and variance are all-reduced over the replicas, which reproduces the
    one-device run: both moments go through `ReplicaContext.all_reduce`, whose gradient is again an all-reduce,
    so the first and the second backward pass (JARE, ConOpt) are those of the global batch.
    """

    def __init__(self, epsilon: float = 1e-3, sync: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.sync = epsilon, sync

    def build(self, input_shape):
        self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, x):
        axes = list(range(len(x.shape) - 1))
        mean = self._replica_mean(ops.mean(x, axis=axes, keepdims=True))
        var = self._replica_mean(ops.mean(ops.square(x - mean), axis=axes, keepdims=True))
        return (x - mean) / ops.sqrt(var + self.epsilon) + self.beta

    def _replica_mean(self, moment):
        """The mean over replicas of a per-replica moment (replicas hold equal numbers of examples)."""
        ctx = tf.distribute.get_replica_context()
        if not self.sync or ctx is None or ctx.num_replicas_in_sync == 1:
            return moment
        return ctx.all_reduce(tf.distribute.ReduceOp.MEAN, moment)

    def get_config(self):
        return dict(super().get_config(), epsilon=self.epsilon, sync=self.sync)


def leaky_relu(x):
    """max(x, 0.1x): the reference discriminators' slope (Keras' LeakyReLU default is 0.3)."""
    return ops.leaky_relu(x, negative_slope=0.1)


def conv(filters: int, kernel: int, stride: int, spectral_norm: bool = False, use_bias: bool = True,
         name=None) -> keras.layers.Layer:
    """Conv2D with TF "SAME" padding (asymmetric for even kernels), Glorot-uniform kernel, zero bias."""
    from jare_tf.models.spectral_norm import SNConv2D
    cls = SNConv2D if spectral_norm else keras.layers.Conv2D
    return cls(filters, kernel, strides=stride, padding="same", use_bias=use_bias, name=name)


def deconv(filters: int, kernel: int, stride: int, use_bias: bool = True, name=None) -> keras.layers.Layer:
    """Transposed conv with "SAME" padding: output size = input size × stride."""
    return keras.layers.Conv2DTranspose(filters, kernel, strides=stride, padding="same", use_bias=use_bias,
                                        name=name)


def dense(units: int, spectral_norm: bool = False, use_bias: bool = True, name=None) -> keras.layers.Layer:
    from jare_tf.models.spectral_norm import SNDense
    cls = SNDense if spectral_norm else keras.layers.Dense
    return cls(units, use_bias=use_bias, name=name)
