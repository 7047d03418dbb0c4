"""Update rules of the two-player game, one module each, registered under their --method names.

Importing this package registers every method; `get(name, **options)` builds one.
"""

from jare_tf.methods import (altgd, conopt, disc_only, extrapolation, gan, gen_only,  # noqa: F401 (registers)
                             instance_noise, jare, r1, r2, sngan, wgan, wgan_gp)
from jare_tf.methods.base import (LOCAL, Directions, Method, Stage, VectorReducer, first_order, get,
                                  method_class, names, register)

__all__ = ["LOCAL", "Directions", "Method", "Stage", "VectorReducer", "first_order", "get", "method_class",
           "names", "register"]
