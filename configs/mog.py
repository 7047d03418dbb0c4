"""Mixture of Gaussians on a ring (JARE paper Sec. 7, Fig. 2; Fig. 7/8 by override).

    jare-train --setting=mog --method=jare --workdir=/tmp/mog
    jare-train --setting=mog --method=jare --config.method.options.jare.gamma=1000 --workdir=/tmp/mog_g1000   # Fig. 7
    jare-train --setting=mog --method=jare --config.data.radius=10 --workdir=/tmp/mog_r10          # Fig. 8

The paper says its setup is "the same as Mescheder et al. (2017)", but the reference code differs from that
(reference_spec C.2, E.4); these values follow the paper where it gives them and the reference code elsewhere —
each field says which. `mog_numerics` is the Numerics-of-GANs configuration. Expected: conopt and jare cover
8/8 modes at 10,000 steps with a high-quality fraction ≥ 0.4 and rising.
"""

import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.setting = "mog"
    c.seed = 0
    c.num_steps = 10000           # paper Sec. 7: 10K iterations (the reference code runs 20,000)
    c.batch_size = 128            # reference code (GMM_GAN.py): batch 128, 16 samples per mode
    c.log_every = 500             # reference code: KDE frames every 500 iterations
    c.spectrum_every = 0          # ~330k parameters: no dense Jacobian; > 0 logs Krylov spectra instead
    c.spectrum_k = 20             # ... the top spectrum_k eigenvalues by magnitude (analysis/krylov.py)
    c.image_every = 2000          # paper Fig. 2: panels at 0, 2000, …, 10000

    c.data = ml_collections.ConfigDict()
    c.data.num_modes = 8          # paper and reference code
    c.data.radius = 2.0           # paper Sec. 7: r = 2 (Fig. 8: r = 10)
    c.data.std = 0.06             # reference code: per-mode std 0.06
    c.data.stratified = True      # reference code: batch row k uses mode k mod 8
    c.data.latent_dim = 64        # paper Sec. 7: 64-dimensional latent
    c.data.latent_variance = 2.0  # paper Sec. 7: N(0, rI₆₄), variance r (the reference code uses 2r)
    c.data.eval_samples = 2500    # this project's metric convention (modes / high-quality samples)

    c.model = ml_collections.ConfigDict()
    c.model.widths = (256, 256, 256, 256)   # reference code model1: 4 × Dense(256, ReLU), G and D

    c.game = ml_collections.ConfigDict()
    c.game.family = "vanilla"
    c.game.generator_loss = "minimax"       # reference code: 'JS' divergence, g_loss = −d_loss (zero-sum)
    c.game.regularizer_generator_loss = "same"

    c.optimizer = ml_collections.ConfigDict()
    # Paper Sec. 7: RMSProp, lr 1e-4; reference semantics: accumulator starts at 1, ε = 1e-10 (TF1 defaults).
    c.optimizer.g = {"name": "rmsprop", "learning_rate": 1e-4}
    c.optimizer.d = {"name": "rmsprop", "learning_rate": 1e-4}

    # Each method's options, γ included, live here and only here: --config.method.options.<method>.gamma=...
    c.method = ml_collections.ConfigDict()
    c.method.options = ml_collections.ConfigDict({
        "gan": {}, "altgd": {}, "instance_noise": {},
        # paper Fig. 2: γ = 10 for ConOpt and JARE (Fig. 7: 1000; the reference code's default is 1000)
        **{m: {"gamma": 10.0} for m in ("conopt", "jare", "gen_only", "disc_only", "extrapolation", "r1", "r2")}})
    return c
