"""Update rules of the two-player game, one module each, named as its --method and registered under that name.

`get(name, **options)` builds one. Importing the package does not import TensorFlow: `names()` lists the
built-in methods from their module names (and any registered by the user), so the command-line tools refuse an
unknown --method at once; the first use of anything else (`get`, `Method`, …) imports every method module,
which registers it (PEP 562 module `__getattr__`).
"""

import importlib
import sys
from typing import List

#: The built-in methods: each is the module jare_tf/methods/<name>.py, registered as --method=<name>.
BUILT_IN = ("altgd", "conopt", "disc_only", "extrapolation", "gan", "gen_only", "instance_noise", "jare", "r1",
            "r2", "sngan", "wgan", "wgan_gp")

__all__ = ["LOCAL", "Directions", "Method", "Stage", "VectorReducer", "first_order", "get", "method_class",
           "names", "register"]


def names() -> List[str]:
    """Every method --method accepts: the built-in ones and those registered since (no TensorFlow import)."""
    base = sys.modules.get(__name__ + ".base")
    return sorted(set(BUILT_IN) | set(base.names() if base else ()))


def _registered():
    for name in BUILT_IN:
        importlib.import_module(f"{__name__}.{name}")
    return importlib.import_module(f"{__name__}.base")


def __getattr__(attribute: str):
    if attribute in __all__:
        return getattr(_registered(), attribute)
    try:
        return importlib.import_module(f"{__name__}.{attribute}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}") from None
