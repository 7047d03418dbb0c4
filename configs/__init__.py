"""One plain-Python config per setting, the single source of every hyperparameter (DESIGN.md).

Each module has `get_config()` returning an `ml_collections.ConfigDict`. Installed as `jare_tf.configs`.
"""

TOY_SETTINGS = ("isotropic", "mog", "mog_numerics", "dirac", "nk_streamlines")
IMAGE_SETTINGS = ("setting_a", "setting_b", "setting_c", "setting_d", "setting_e", "setting_f", "celeba",
                  "imagenet")
SETTINGS = TOY_SETTINGS + IMAGE_SETTINGS
#: --setting=A … F name the paper's CIFAR-10 settings.
ALIASES = {letter: f"setting_{letter.lower()}" for letter in "ABCDEF"}


def dotted(tree, prefix: str = "") -> dict:
    """{"a.b": value} for every leaf of a nested dict (a ConfigDict's to_dict()); tuples become lists (JSON)."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out
