"""Values shared by the image settings (reference_spec A.2, A.3; JARE paper Sec. 7 and Appendix F.3).

Not a setting itself: setting_a … setting_f, celeba and imagenet start from `base()` and change what differs.
"""

import ml_collections

# Per-method options of the image runs. ConOpt γ = 10 and JARE γ = 100 are the paper's (Sec. 7) and the
# reference scripts'; the others are this project's choices, documented here.
METHOD_OPTIONS = {
    "gan": {}, "sngan": {},
    "altgd": {},                                  # d_first; --config.method.options.altgd.order=g_first
                                                  # with ...g_beta1=0.9 reproduces the reference AltGD
    "conopt": {"gamma": 10.0, "hvp": "reverse"},  # hvp: reverse-over-reverse or "forward" (see jare-bench)
    "jare": {"gamma": 100.0, "hvp": "reverse"},
    "extrapolation": {"gamma": 100.0},            # the first-order stand-in for JARE: JARE's γ
    "gen_only": {"gamma": 100.0}, "disc_only": {"gamma": 100.0},
    "r1": {"gamma": 10.0}, "r2": {"gamma": 10.0},  # Mescheder et al. 2018's CIFAR runs: γ = 10
    "wgan": {"clip": 0.01},                        # Arjovsky et al. 2017
    "wgan_gp": {"gamma": 20.0},                    # Gulrajani et al.'s λ = 10 (γ/2 convention)
    "instance_noise": {"std": 0.1},
}


def adam():
    # Adam β = (0.5, 0.999) with the TF1 ε = 1e-8 (Keras' default is 1e-7), lr 1e-4 (reference_spec A.2).
    return {"name": "adam", "learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999, "epsilon": 1e-8}


def base(setting: str, architecture: str) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.setting = setting
    c.architecture = architecture
    c.dataset = "cifar10"          # or your own: tfds:<name>[/<config>][:<split>], folder:<path> (docs/own_data.md)
    c.image_key = ""               # tfds: datasets: the image feature ("" = the builder's only one, or "image")
    c.image_size = 32              # the scripts' --output-size 32
    c.z_dim = 128                  # z ~ N(0, I), 128-d (scripts' --z-dim)
    c.batch_size = 64
    c.num_steps = 500000           # scripts' --nsteps
    c.seed = 125                   # scripts' --seed

    # Data, logging and checkpoints (this project's; the reference logs every 300 s and checkpoints hourly).
    c.data_dir = ""                # "" = TFDS' default (~/tensorflow_datasets); local or gs://
    c.fake_data = False            # deterministic random images instead of the dataset (smoke runs, benchmarks)
    c.steps_per_execution = 10
    c.jit_compile = "auto"         # XLA for each step: auto (Keras' rule: on with a GPU or TPU), true or false
    c.log_every = 100
    c.sample_every = 5000          # the reference writes an 8×8 sample grid every 5000 steps
    c.checkpoint_every = 5000
    # Top-k Krylov eigenvalues of the applied update every spectrum_every steps (TensorBoard: spectrum/...);
    # off by default: one k = 20 spectrum costs hundreds of operator products (jare-spectrum --workdir).
    c.spectrum_every = 0
    c.spectrum_k = 20
    c.keep_checkpoints = 5

    c.game = ml_collections.ConfigDict()
    c.game.family = "vanilla"
    c.game.generator_loss = "non_saturating"       # paper Sec. 7: the non-saturating loss for all methods
    c.game.regularizer_generator_loss = "same"     # the reference regularises D with the NS gradient (B.6)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.g = adam()
    c.optimizer.d = adam()

    # Each method's options, γ included, live in METHOD_OPTIONS and only there:
    # --config.method.options.<method>.gamma=...
    c.method = ml_collections.ConfigDict()
    c.method.options = ml_collections.ConfigDict(METHOD_OPTIONS)
    return c
