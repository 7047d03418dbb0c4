"""One plain-Python config per setting, the single source of every hyperparameter (DESIGN.md).

Each module has `get_config()` returning an `ml_collections.ConfigDict`. Installed as `jare_tf.configs`.
"""

SETTINGS = ("isotropic", "mog", "mog_numerics", "dirac", "nk_streamlines")
