"""Nagarajan & Kolter 2017, Fig. 3: D(x) = w₂x², G(z) = a·z, data and latent uniform on [−1, 1].

    jare-train --setting=nk_streamlines --method=gen_only --config.game.family=wgan \
        --config.method.options.gen_only.gamma=1 --workdir=/tmp/nk

The equilibrium is (a, w₂) = (1, 0). `jare-reproduce toy` draws the streamlines of the update vector field for
the GAN and WGAN losses with generator-only regularisation η ∈ {0, 0.25, 0.5, 1} (γ = 2η in this package's ½γ
convention): WGAN orbits without it and converges with it.
"""

import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.setting = "nk_streamlines"
    c.seed = 0
    c.num_steps = 3000
    c.batch_size = 256
    c.log_every = 10
    c.spectrum_every = 500
    c.image_every = 0

    c.data = ml_collections.ConfigDict()
    c.data.a0 = 1.5               # a start inside the plotted window around (1, 0)
    c.data.w20 = 0.5
    c.data.etas = (0.0, 0.25, 0.5, 1.0)   # N&K Fig. 3 columns (γ = 2η)
    c.data.families = ("vanilla", "wgan")  # N&K Fig. 3 rows

    c.game = ml_collections.ConfigDict()
    c.game.family = "vanilla"
    c.game.generator_loss = "minimax"     # N&K analyse the minimax value V
    c.game.regularizer_generator_loss = "same"

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.g = {"name": "sgd", "learning_rate": 0.05}
    c.optimizer.d = {"name": "sgd", "learning_rate": 0.05}

    # Each method's options, γ included, live here and only here: --config.method.options.<method>.gamma=...
    c.method = ml_collections.ConfigDict()
    c.method.options = ml_collections.ConfigDict({"gan": {}, **{m: {"gamma": 1.0} for m in (   # N&K η = 0.5
        "gen_only", "jare", "conopt")}})
    return c
