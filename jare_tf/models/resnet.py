"""The ResNets of settings E and F (reference_spec A.4: resnet_v1, resnet_v2 and their SN variants; JARE paper
Tables 2 and 3) and of the CelebA 64 and ImageNet 128 runs (Tables 4 and 5), all with Mf = 64.

Residual blocks, as the reference code builds them (the tables omit these details):
  generator:     h ← h + 0.1·ReLU(Conv(3, 1, 64)(ReLU(Conv(3, 1, 32)(h))))
  discriminator: h ← h + 0.1·ReLU(Conv(3, 1, 64)(ReLU(Conv(3, 1, c_mid)(h)))), c_mid = 64 in the first block and
                 32 after it.
No activation after the sum, no BN.

G: Dense(s·s·64)+ReLU → reshape s×s×64 → n × [ConvT(4, 2, 64)+ReLU ; block] → last layer → tanh, with the last
layer ConvT(4, 2, C) for v1 (s = 2, n = 3) and Conv(3, 1, C) for v2 (s = 4, n = 3), CelebA (s = 4, n = 4) and
ImageNet (s = 4, n = 5); C = 3 channels, or 1 for Fashion-MNIST (D's first conv takes C).
D: n × [Conv(4, 2, 64)+ReLU ; block] down to 2×2 → flatten 256 → Dense(1); n = 4 (32×32), 5 (64×64), 6 (128×128).
The SN variants normalise every conv, residual convs included, and the final Dense.
"""

import keras

from jare_tf.models.layers import conv, deconv, dense

MF = 64
RESIDUAL_SCALE = 0.1


def _block(x, mid: int, spectral_norm: bool, name: str):
    r = keras.layers.ReLU()(conv(mid, 3, 1, spectral_norm, name=f"{name}_conv0")(x))
    r = keras.layers.ReLU()(conv(MF, 3, 1, spectral_norm, name=f"{name}_conv1")(r))
    return keras.layers.Add()([x, keras.layers.Rescaling(RESIDUAL_SCALE)(r)])


def resnet_generator(start: int, num_up: int, last: str, z_dim: int = 128, channels: int = 3,
                     name: str = "generator") -> keras.Model:
    if last not in ("deconv", "conv"):
        raise ValueError(f"last must be 'deconv' or 'conv', got {last!r}.")
    z = keras.Input((z_dim,))
    x = keras.layers.ReLU()(dense(start * start * MF, name="fc")(z))
    x = keras.layers.Reshape((start, start, MF))(x)
    for i in range(num_up):
        x = keras.layers.ReLU()(deconv(MF, 4, 2, name=f"deconv{i}")(x))
        x = _block(x, MF // 2, False, name=f"block{i}")
    x = deconv(channels, 4, 2, name="out")(x) if last == "deconv" else conv(channels, 3, 1, name="out")(x)
    return keras.Model(z, keras.layers.Activation("tanh")(x), name=name)


def resnet_discriminator(image_size: int, spectral_norm: bool = False, channels: int = 3,
                         name: str = "discriminator") -> keras.Model:
    num_down = (image_size // 2).bit_length() - 1      # down to 2×2
    if 2 ** (num_down + 1) != image_size:
        raise ValueError(f"image_size must be a power of two >= 4, got {image_size}.")
    x = inputs = keras.Input((image_size, image_size, channels))
    for i in range(num_down):
        x = keras.layers.ReLU()(conv(MF, 4, 2, spectral_norm, name=f"conv{i}")(x))
        x = _block(x, MF if i == 0 else MF // 2, spectral_norm, name=f"block{i}")
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, dense(1, spectral_norm, name="fc")(x), name=name)
