"""TF-GAN's evaluation code on TensorFlow ≥ 2.16.

tensorflow-gan 2.1's top-level package imports tf.estimator, which TensorFlow 2.16 removed, so `import
tensorflow_gan` fails. Its `python.eval` subpackage does not need the estimator: this module registers empty
parent packages that point at the installed files (without running their __init__) and imports the eval modules
from there. IS, FID and KID are TF-GAN's own functions; nothing is rewritten here.
"""

import importlib
import importlib.util
import os
import sys
import types


def _load(module: str):
    spec = importlib.util.find_spec("tensorflow_gan")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("tensorflow-gan is not installed; pip install tensorflow-gan.")
    root = list(spec.submodule_search_locations)[0]
    for name, path in (("tensorflow_gan", root), ("tensorflow_gan.python", os.path.join(root, "python"))):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
    return importlib.import_module(f"tensorflow_gan.python.eval.{module}")


classifier_metrics = _load("classifier_metrics")
