"""Theory as a tool: the game Jacobian of any Method, its spectrum (ζ, τ, η_max) and the papers' closed forms.

The package imports TensorFlow only when a name that needs it is used (PEP 562), so that the numpy-only modules
(closed_forms, general_gans, spectrum) can check a command's inputs before TensorFlow loads.
"""

import importlib

_LAZY = {"update_operator_jacobian": "jacobian", "vector_field_jacobian": "jacobian", "Spectrum": "spectrum",
         "analyse": "spectrum"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"jare_tf.analysis.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'jare_tf.analysis' has no attribute {name!r}")
