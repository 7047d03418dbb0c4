"""Dirac-GAN (Mescheder et al. 2018, Sec. 2.2, Table 1 and Fig. 3; JARE paper Appendix C).

    jare-train --setting=dirac --method=r1 --workdir=/tmp/dirac_r1

p_φ = δ_φ, D(x) = θx, data δ₀, equilibrium (0, 0), start (1, 1), step 0.2, simultaneous updates. Per-method
options are those of Table 1 of Mescheder et al.; the Fig. 3 rows and the Appendix C point are overrides, e.g.
`--config.game.generator_loss=non_saturating`, `--method=altgd --config.method.options.altgd.n_d=5`,
`--method=r1 --config.method.options.r1.gamma=1` (critical γ), `--method=conopt
--config.method.options.conopt.gamma=4` (reverses the flow) vs `--method=jare --config.method.options.jare.gamma=10`.
Expected after 1,000 steps: distance_ratio < 0.1 for instance_noise, conopt, r1, r2, jare; tail_mean_ratio > 0.5
for gan, wgan, wgan_gp.
"""

import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.setting = "dirac"
    c.seed = 0
    c.num_steps = 1000
    c.batch_size = 1              # one point: the data δ₀ and the generator δ_φ
    c.log_every = 1               # the whole trajectory (distance to equilibrium every step)
    c.spectrum_every = 100
    c.image_every = 0

    c.data = ml_collections.ConfigDict()
    # Mescheder et al. 2018 start at θ₀ = ψ₀ = 1 in their letters (θ generator, ψ discriminator). Their
    # discriminator scores fakes high (L = E f(D(G(z))) + E f(−D(x))), ours scores real data high (JARE paper
    # eq. 1), so their ψ is our −θ: the same trajectories start at (φ₀, θ₀) = (1, −1) here.
    c.data.phi0 = 1.0
    c.data.theta0 = -1.0

    c.game = ml_collections.ConfigDict()
    c.game.family = "vanilla"     # f(t) = −log(1 + e^{−t}); wgan/wgan_gp use the WGAN family
    c.game.generator_loss = "minimax"
    c.game.regularizer_generator_loss = "same"

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.g = {"name": "sgd", "learning_rate": 0.2}    # Mescheder et al. 2018: h = 0.2
    c.optimizer.d = {"name": "sgd", "learning_rate": 0.2}

    # Each method's options, γ included, live here and only here: --config.method.options.<method>.gamma=...
    c.method = ml_collections.ConfigDict()
    c.method.options = ml_collections.ConfigDict({
        "gan": {},
        "altgd": {"n_d": 1},
        "wgan": {"clip": 1.0},                                  # Table 1: WGAN, clip 1
        "wgan_gp": {"gamma": 0.7, "target": 1.0},               # Table 1: WGAN-GP, γ 0.7, g0 = 1
        "instance_noise": {"std": 0.7, "num_draws": 64},       # Table 1: σ = 0.7; 64 draws per step
        "r1": {"gamma": 0.3},                                   # Table 1: γ = 0.3
        "r2": {"gamma": 0.3},
        "conopt": {"gamma": 1.0},                               # Table 1: consensus, γ = 1
        "jare": {"gamma": 1.0},
        "gen_only": {"gamma": 1.0},
        "disc_only": {"gamma": 1.0},
        "extrapolation": {"gamma": 1.0},
    })
    return c
