"""Mixture of Gaussians as in "The Numerics of GANs" (Mescheder et al. 2017, Sec. 5; reference_spec E.4).

    jare-train --setting=mog_numerics --method=conopt --workdir=/tmp/mog_numerics

8 modes on the unit circle with std 0.01, 16-d N(0, I) latent, 4 × Dense(16, ReLU) players, non-saturating
loss, RMSProp 1e-4, batch 512, γ = 10, 20,000 steps (the paper's figures at 0, 5k, 10k, 20k).
"""

from . import mog


def get_config():
    c = mog.get_config()
    c.setting = "mog_numerics"
    c.num_steps = 20000
    c.batch_size = 512
    c.image_every = 5000
    c.data.radius = 1.0
    c.data.std = 0.01
    c.data.latent_dim = 16
    c.data.latent_variance = 1.0
    c.model.widths = (16, 16, 16, 16)
    c.game.generator_loss = "non_saturating"
    return c
