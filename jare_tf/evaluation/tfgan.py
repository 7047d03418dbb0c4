"""TF-GAN's evaluation code on TensorFlow ≥ 2.16.

tensorflow-gan 2.1's top-level package imports tf.estimator, which TensorFlow 2.16 removed, so `import
tensorflow_gan` fails. Its `python.eval` subpackage does not need the estimator: this module registers empty
parent packages that point at the installed files (without running their __init__) and imports the eval modules
from there. IS, FID and KID are TF-GAN's own functions; nothing is rewritten here.

TF-GAN calls `tf.map_fn(..., back_prop=False)`, which TensorFlow deprecates with an 8-line notice on the first
call; the argument only turns gradients off, which these metrics never take. The eval module's public functions
therefore run with TensorFlow's deprecation notices silenced (they return what TF-GAN's return); other warnings,
and deprecation notices outside these functions, are printed as before.
"""

import functools
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


def _without_deprecation_notices(module):
    """`module` with each public function it has called under TensorFlow's deprecation.silence()."""
    from tensorflow.python.util import deprecation

    def silenced(function):
        @functools.wraps(function)
        def call(*args, **kwargs):
            with deprecation.silence():
                return function(*args, **kwargs)
        return call

    for name in module.__all__:                 # (__all__ also names functions the module no longer has)
        if callable(getattr(module, name, None)):
            setattr(module, name, silenced(getattr(module, name)))
    return module


classifier_metrics = _without_deprecation_notices(_load("classifier_metrics"))
