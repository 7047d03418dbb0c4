"""Settings: load a setting's config (configs/<setting>.py, installed as jare_tf.configs) and resolve the
options of the method that plays it."""

import importlib
from typing import Dict

import ml_collections

from jare_tf.configs import SETTINGS


def load(setting: str) -> ml_collections.ConfigDict:
    if setting not in SETTINGS:
        raise ValueError(f"Unknown --setting={setting!r}; valid settings: {', '.join(SETTINGS)}.")
    return importlib.import_module(f"jare_tf.configs.{setting}").get_config()


def method_options(config: ml_collections.ConfigDict, method: str) -> Dict[str, object]:
    """γ of the setting, then the setting's per-method options (which may set their own γ)."""
    options = {"gamma": config.method.gamma}
    per_method = config.method.options.get(method)
    if per_method is not None:
        options.update(dict(per_method))
    return options
