"""Spectral normalisation as the JARE reference code builds it (reference_spec A.4 "Spectral norm as implemented",
G.5), not as `keras.layers.SpectralNormalization` does.

The raw kernel W stays the trainable variable; the layer uses W/σ(W), a reparametrisation, so gradients (and
JARE's second-order terms) flow through σ, including through the power iteration. With W reshaped to
W_m ∈ R^{k·k·c_in × c_out} and a persistent, non-trainable u ∈ R^{1×c_out} (truncated normal, stddev 1), each
call computes

    v = n(u W_mᵀ),   u′ = n(v W_m),   σ = v W_m u′ᵀ,     n(a) = a / (‖a‖ + 1e-12),

and assigns u ← u′ on every call (both discriminator calls of a step). Keras' wrapper differs: it assigns W/σ into
the kernel, stops gradients through u and v, initialises u with stddev 0.02 and updates only when training.
"""

from typing import Tuple

import keras
from keras import ops

EPS = 1e-12


def _normalise(a):
    return a / (ops.sqrt(ops.sum(ops.square(a))) + EPS)


def power_iteration(kernel, u) -> Tuple[object, object]:
    """One power iteration on W_m = kernel reshaped to [-1, c_out]: returns (σ, u′)."""
    w = ops.reshape(kernel, (-1, ops.shape(kernel)[-1]))
    v = _normalise(ops.matmul(u, ops.transpose(w)))
    u_new = _normalise(ops.matmul(v, w))
    sigma = ops.sum(ops.matmul(v, w) * u_new)
    return sigma, u_new


class _SpectralNorm:
    """Mixin: the u vector and the normalised kernel."""

    def _build_u(self):
        self.u = self.add_weight(name="sn_u", shape=(1, self.kernel.shape[-1]), trainable=False,
                                 initializer=keras.initializers.TruncatedNormal(stddev=1.0))

    def normalised_kernel(self):
        sigma, u_new = power_iteration(self.kernel, self.u)
        self.u.assign(u_new)
        return self.kernel / sigma


class SNConv2D(_SpectralNorm, keras.layers.Conv2D):
    """Conv2D whose kernel is divided by its spectral norm at every call."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, self.normalised_kernel())


class SNDense(_SpectralNorm, keras.layers.Dense):
    """Dense whose kernel is divided by its spectral norm at every call."""

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs):
        x = ops.matmul(inputs, self.normalised_kernel())
        if self.use_bias:
            x = x + self.bias
        return self.activation(x) if self.activation is not None else x
