"""One plain-Python config per setting, the single source of every hyperparameter (DESIGN.md).

Each module has `get_config()` returning an `ml_collections.ConfigDict`. Installed as `jare_tf.configs`.
"""

TOY_SETTINGS = ("isotropic", "mog", "mog_numerics", "dirac", "nk_streamlines")
IMAGE_SETTINGS = ("setting_a", "setting_b", "setting_c", "setting_d", "setting_e", "setting_f", "celeba",
                  "imagenet")
SETTINGS = TOY_SETTINGS + IMAGE_SETTINGS
#: --setting=A … F name the paper's CIFAR-10 settings.
ALIASES = {letter: f"setting_{letter.lower()}" for letter in "ABCDEF"}
