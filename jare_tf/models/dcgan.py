"""The DCGAN-like model with a constant number of filters of settings C and D (reference_spec A.4, dcgan4_nobn).

G: Dense(256)+ReLU → reshape 2×2×64 → 3 × [ConvT(5, 2, 64)+ReLU] → ConvT(5, 2, C) → tanh (2→4→8→16→32); C = 3, or 1 for Fashion-MNIST.
D: 4 × [Conv(5, 2, 64) + LeakyReLU(0.1)] (32→16→8→4→2) → flatten 256 → Dense(1); the SN variant normalises the
four convs and the final Dense. (The paper attributes it to Mescheder et al. 2017, whose models differ:
reference_spec E.3.)
"""

import keras

from jare_tf.models.layers import conv, deconv, dense, leaky_relu


def dcgan_generator(z_dim: int = 128, channels: int = 3, name: str = "generator") -> keras.Model:
    z = keras.Input((z_dim,))
    x = keras.layers.ReLU()(dense(256, name="fc")(z))
    x = keras.layers.Reshape((2, 2, 64))(x)
    for i in range(3):
        x = keras.layers.ReLU()(deconv(64, 5, 2, name=f"deconv{i}")(x))
    x = deconv(channels, 5, 2, name="out")(x)
    return keras.Model(z, keras.layers.Activation("tanh")(x), name=name)


def dcgan_discriminator(spectral_norm: bool = False, channels: int = 3, name: str = "discriminator") -> keras.Model:
    x = inputs = keras.Input((32, 32, channels))
    for i in range(4):
        x = keras.layers.Lambda(leaky_relu)(conv(64, 5, 2, spectral_norm, name=f"conv{i}")(x))
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, dense(1, spectral_norm, name="fc")(x), name=name)
