"""Networks of the toy games: the isotropic-Gaussian example (JARE paper Sec. 4), the Dirac-GAN
(Mescheder et al. 2018, Sec. 2.2), small MLPs (mixture of Gaussians) and the Sec. 6 game's affine generator and
quadratic discriminator (analysis/general_gans.py).

All are Keras models, called statelessly by `jare_tf.games.Game`, so the same methods train them as train the
image networks.
"""

from typing import Optional, Sequence

import keras
import numpy as np


class Translation(keras.layers.Layer):
    """G_φ(z) = z + φ (Sec. 4): a learned offset added to the latent."""

    def __init__(self, initial: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        self.initial = np.asarray(initial, dtype=np.float64)

    def build(self, input_shape):
        self.phi = self.add_weight(name="phi", shape=self.initial.shape,
                                   initializer=keras.initializers.Constant(self.initial))

    def call(self, z):
        return z + self.phi


class Position(Translation):
    """The Dirac-GAN generator: every sample sits at the learned point φ, p_φ = δ_φ (the latent only sets the
    batch size)."""

    def call(self, z):
        return keras.ops.ones_like(z[:, :1]) * self.phi


def _linear_discriminator(dim: int, theta0: Sequence[float], dtype: str, name: str) -> keras.Model:
    x = keras.Input((dim,), dtype=dtype)
    dense = keras.layers.Dense(1, use_bias=False, dtype=dtype, name="theta",
                               kernel_initializer=keras.initializers.Constant(
                                   np.reshape(np.asarray(theta0, np.float64), (dim, 1))))
    return keras.Model(x, dense(x), name=name)


def isotropic_generator(phi0: Sequence[float], dtype: str = "float32") -> keras.Model:
    """G_φ(z) = z + φ with φ initialised to phi0."""
    z = keras.Input((len(phi0),), dtype=dtype)
    return keras.Model(z, Translation(phi0, dtype=dtype, name="phi")(z), name="generator")


def linear_discriminator(theta0: Sequence[float], dtype: str = "float32") -> keras.Model:
    """D_θ(x) = θᵀx, no bias (Sec. 4)."""
    return _linear_discriminator(len(theta0), theta0, dtype, "discriminator")


def dirac_generator(phi0: float = 1.0, dtype: str = "float32") -> keras.Model:
    """p_φ = δ_φ on the real line; the latent only sets the batch size."""
    z = keras.Input((1,), dtype=dtype)
    return keras.Model(z, Position([phi0], dtype=dtype, name="phi")(z), name="generator")


def dirac_discriminator(theta0: float = 1.0, dtype: str = "float32") -> keras.Model:
    """D_θ(x) = θ·x on the real line."""
    return _linear_discriminator(1, [theta0], dtype, "discriminator")


def mlp(input_dim: int, widths: Sequence[int], output_dim: int, dtype: str = "float32",
        name: Optional[str] = None, activation: str = "relu") -> keras.Model:
    """Dense(w, activation) for w in widths, then a linear Dense(output_dim); Glorot-uniform kernels, zero
    biases (the slim defaults of the reference toy code)."""
    x = inputs = keras.Input((input_dim,), dtype=dtype)
    for i, width in enumerate(widths):
        x = keras.layers.Dense(width, activation=activation, dtype=dtype, name=f"dense_{i}")(x)
    x = keras.layers.Dense(output_dim, dtype=dtype, name="out")(x)
    return keras.Model(inputs, x, name=name)


class Quadratic(keras.layers.Layer):
    """D(x) = w₂·x² on the real line (Nagarajan & Kolter 2017, Fig. 3)."""

    def __init__(self, initial: float, **kwargs):
        super().__init__(**kwargs)
        self.initial = float(initial)

    def build(self, input_shape):
        self.w2 = self.add_weight(name="w2", shape=(1,), initializer=keras.initializers.Constant(self.initial))

    def call(self, x):
        return self.w2 * keras.ops.square(x)


def nk_generator(a0: float, dtype: str = "float32") -> keras.Model:
    """G(z) = a·z on the real line (Nagarajan & Kolter 2017, Fig. 3)."""
    z = keras.Input((1,), dtype=dtype)
    dense = keras.layers.Dense(1, use_bias=False, dtype=dtype, name="a",
                               kernel_initializer=keras.initializers.Constant(a0))
    return keras.Model(z, dense(z), name="generator")


def nk_discriminator(w20: float, dtype: str = "float32") -> keras.Model:
    x = keras.Input((1,), dtype=dtype)
    return keras.Model(x, Quadratic(w20, dtype=dtype, name="w2")(x), name="discriminator")


def affine_generator(matrix0: np.ndarray, bias0: Sequence[float], dtype: str = "float32") -> keras.Model:
    """G_φ(z) = Az + b, φ = (A, b) (a Dense layer, kernel Aᵀ), initialised to (matrix0, bias0)."""
    matrix0 = np.asarray(matrix0, np.float64)
    z = keras.Input((matrix0.shape[1],), dtype=dtype)
    dense = keras.layers.Dense(matrix0.shape[0], dtype=dtype, name="affine",
                               kernel_initializer=keras.initializers.Constant(matrix0.T),
                               bias_initializer=keras.initializers.Constant(np.asarray(bias0, np.float64)))
    return keras.Model(z, dense(z), name="generator")


def quadratic_feature_indices(dim: int):
    """(i, j) of the degree-2 features, i ≤ j in row-major order, as `HermiteQuadratic` lists them."""
    return np.triu_indices(dim)


class HermiteQuadratic(keras.layers.Layer):
    """D_θ(x) = s·θᵀh(u) with u = W(x − m) and h the orthonormal Hermite polynomials of degree 1 and 2 of u:
    u_i, then u_i·u_j for i < j and (u_i² − 1)/√2, in `quadratic_feature_indices` order. Under u ~ N(0, I),
    E[h hᵀ] = I. θ = 0 gives D ≡ 0 (Assumption 1 of the JARE paper)."""

    def __init__(self, centre: Sequence[float], whitening: np.ndarray, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.centre = np.asarray(centre, np.float64)
        self.whitening = np.asarray(whitening, np.float64)
        self.scale = float(scale)
        rows, cols = quadratic_feature_indices(self.centre.size)
        self.rows, self.cols = rows, cols
        diagonal = rows == cols
        self.slope = np.where(diagonal, 1 / np.sqrt(2), 1.0)
        self.offset = np.where(diagonal, 1 / np.sqrt(2), 0.0)

    def build(self, input_shape):
        d = self.centre.size
        self.theta = self.add_weight(name="theta", shape=(d + self.rows.size,), initializer="zeros")

    def call(self, x):
        def const(a):
            return keras.ops.convert_to_tensor(a, dtype=x.dtype)
        u = keras.ops.matmul(x - const(self.centre), const(self.whitening.T))
        quad = keras.ops.take(u, self.rows, axis=1) * keras.ops.take(u, self.cols, axis=1)
        h = keras.ops.concatenate([u, quad * const(self.slope) - const(self.offset)], axis=1)
        return self.scale * keras.ops.matmul(h, self.theta[:, None])


def hermite_discriminator(centre: Sequence[float], whitening: np.ndarray, scale: float,
                          dtype: str = "float32") -> keras.Model:
    """D_θ(x) = s·θᵀh(W(x − m)) at θ = 0 (`HermiteQuadratic`)."""
    x = keras.Input((len(centre),), dtype=dtype)
    return keras.Model(x, HermiteQuadratic(centre, whitening, scale, dtype=dtype, name="theta")(x),
                       name="discriminator")
