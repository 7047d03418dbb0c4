"""The SN-GAN "standard CNN" of settings A and B (reference_spec A.4: conv4, conv4_nobn, conv4_sn, conv4_sn_nobn).

Generator A (conv4): Dense(8192, no bias) → BN → ReLU → reshape 4×4×512 → 3 × [ConvT(4, 2, 256/128/64), no bias
→ BN → ReLU] → Conv(3, 1, C), no bias → BN → tanh (C = 3, or 1 for
Fashion-MNIST; D's first conv takes C channels). The first BN normalises each of the 8192 dense features over
the batch (before the reshape); BN is `BatchStatsNorm` (batch statistics always, β only, ε 1e-3).
Generator B (conv4_nobn): the same without BN, with biases: Dense(8192)+ReLU → … → Conv(3, 1, C) → tanh.
Discriminator (A and B): Conv(3,1,64) Conv(4,2,64) Conv(3,1,128) Conv(4,2,128) Conv(3,1,256) Conv(4,2,256)
Conv(3,1,512), each with bias and LeakyReLU(0.1) → flatten 8192 → Dense(1). SN variants normalise every conv and
the final Dense, except conv4_sn_nobn, whose final Dense is not normalised (the reference's own inconsistency).

Layer state: the discriminator is called separately on the real and on the fake batch; with SN each call advances
u. The BN keeps no state. Extra forward passes of methods (WGAN-GP interpolates) are evaluated statelessly and
their state updates discarded (`jare_tf.methods.base.Pass.discriminate_extra`); R1/R2 reuse the main passes.
"""

import keras

from jare_tf.models.layers import BatchStatsNorm, conv, deconv, dense, leaky_relu

D_LAYERS = ((3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256), (3, 1, 512))


def conv4_generator(z_dim: int = 128, batch_norm: bool = True, sync_batch_norm: bool = False, channels: int = 3,
                    name: str = "generator") -> keras.Model:
    z = keras.Input((z_dim,))
    bias = not batch_norm

    def norm_relu(x, layer_name):
        if batch_norm:
            x = BatchStatsNorm(sync=sync_batch_norm, name=f"bn_{layer_name}")(x)
        return keras.layers.ReLU()(x)

    x = norm_relu(dense(8192, use_bias=bias, name="fc")(z), "fc")
    x = keras.layers.Reshape((4, 4, 512))(x)
    for i, filters in enumerate((256, 128, 64)):
        x = norm_relu(deconv(filters, 4, 2, use_bias=bias, name=f"deconv{i}")(x), f"deconv{i}")
    x = conv(channels, 3, 1, use_bias=bias, name="out")(x)
    if batch_norm:
        x = BatchStatsNorm(sync=sync_batch_norm, name="bn_out")(x)
    return keras.Model(z, keras.layers.Activation("tanh")(x), name=name)


def conv4_discriminator(spectral_norm: bool = False, normalise_last: bool = True, channels: int = 3,
                        name: str = "discriminator") -> keras.Model:
    x = inputs = keras.Input((32, 32, channels))
    for i, (kernel, stride, filters) in enumerate(D_LAYERS):
        x = keras.layers.Lambda(leaky_relu)(conv(filters, kernel, stride, spectral_norm, name=f"conv{i}")(x))
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, dense(1, spectral_norm and normalise_last, name="fc")(x), name=name)
