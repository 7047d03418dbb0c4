"""Isotropic Gaussian (JARE paper Sec. 4 and 7, Fig. 1; Fig. 5/6 by override).

    jare-train --setting=isotropic --method=jare --workdir=/tmp/iso
    jare-train --setting=isotropic --method=conopt --config.data.mu=6 --workdir=/tmp/iso_mu6   # Fig. 5 blow-up

x ~ N([0, …, μ], σ²I), z = σ·N(0, I), G(z) = z + φ, D(x) = θᵀx without bias, zero-sum vanilla loss, plain SGD.
Expected (two CPU cores, ~1 s per run): jare ends with g_norm ≤ 0.005 and d_norm ≤ 0.002, conopt's g_norm is
several times jare's, gan's g_norm stays ≥ 0.03 (the story of Fig. 1).
"""

import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.setting = "isotropic"
    c.seed = 0
    c.num_steps = 15000           # paper Sec. 7: 15K iterations
    c.batch_size = 128            # paper Sec. 7
    c.log_every = 100             # reference: scalars every 100 iterations (reference_spec C.1)
    c.spectrum_every = 500
    c.image_every = 0

    c.data = ml_collections.ConfigDict()
    c.data.mu = 4.0               # Fig. 1: v = [0, μ], μ = 4 (Fig. 5: μ ∈ {2, 4, 6})
    c.data.sigma2 = 0.04          # Fig. 1: σ² = 0.04 (Fig. 6: σ ∈ {0.5, 0.7})
    c.data.dim = 2                # Sec. 7: two-dimensional case
    c.data.init_offset = 0.05     # reference code: φ₀ = φ* + 0.05, θ₀ = (0.05, 0.05) (reference_spec C.1)

    c.game = ml_collections.ConfigDict()
    c.game.family = "vanilla"     # g1(t) = g2(−t) = −log(1 + e^{−t})
    c.game.generator_loss = "minimax"     # zero-sum f, as the reference's 'JS' divergence
    c.game.regularizer_generator_loss = "same"

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.g = {"name": "sgd", "learning_rate": 1e-3}   # paper Sec. 7: SGD, η = 0.001
    c.optimizer.d = {"name": "sgd", "learning_rate": 1e-3}

    # Each method's options, γ included, live here and only here: --config.method.options.<method>.gamma=...
    c.method = ml_collections.ConfigDict()
    c.method.options = ml_collections.ConfigDict({
        "gan": {}, "altgd": {},
        # paper Sec. 7: γ = 10 (ConOpt and JARE alike)
        **{m: {"gamma": 10.0} for m in ("conopt", "jare", "gen_only", "disc_only", "extrapolation")}})
    return c
