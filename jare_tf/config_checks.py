"""Every number of a run's config checked before anything is built: finite where it must be, positive where it
must be, whole where it must be, with the flag that sets it in the message (the shortcut the user typed, such
as --num_steps, or --config.<path>). Needs no TensorFlow, so a bad value costs a tenth of a second."""

import math
from typing import Dict, Iterable

from jare_tf.configs import dotted

#: Leaves (by their last key) that must be > 0, and those that must be >= 0 (0 switches the thing off).
POSITIVE = {"batch_size", "checkpoint_every", "keep_checkpoints", "log_every", "steps_per_execution", "z_dim",
            "learning_rate", "eval_samples", "sigma2", "std", "latent_variance", "radius", "num_modes", "dim",
            "latent_dim", "num_draws", "n_d", "image_size", "epsilon", "clip", "spectrum_k", "every"}
NON_NEGATIVE = {"num_steps", "gamma", "image_every", "sample_every", "spectrum_every", "seed", "beta_1", "beta_2",
                "target"}
#: Adam's β₁, β₂ lie in [0, 1).
BELOW_ONE = {"beta_1", "beta_2"}
#: Keras counts steps, and TensorFlow many shapes, in 32-bit integers: larger values cannot be trained.
MAX_STEPS = 2 ** 31 - 1


def _number(flag: str, v: object, positive: bool, non_negative: bool) -> bool:
    """Check one value (ValueError naming `flag`); False when it is not a number (nothing to check)."""
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{flag}={v}: must be a finite number.")
    if positive and not v > 0:
        raise ValueError(f"{flag}={v}: must be > 0.")
    if non_negative and not v >= 0:
        raise ValueError(f"{flag}={v}: must be >= 0.")
    return True


def check_flags(values: Dict[str, object], positive: Iterable[str] = (), non_negative: Iterable[str] = ()) -> None:
    """A command's own numeric flags ({name: value}, None for unset): finite, and > 0 or >= 0 where named."""
    for name, v in values.items():
        _number(f"--{name}", v, name in set(positive), name in set(non_negative))


def _flag(path: str, shortcuts: Iterable[str]) -> str:
    return f"--{path}" if path in shortcuts else f"--config.{path}"


def check(config_dict: Dict, shortcuts: Iterable[str] = ()) -> None:
    """Raise ValueError naming the first bad value; `shortcuts` are the top-level keys given by a shortcut flag."""
    shortcuts = set(shortcuts)
    for path, value in sorted(dotted(config_dict).items()):
        key = path.split(".")[-1]
        values = value if isinstance(value, list) else [value]
        for v in values:
            flag = _flag(path, shortcuts)
            if not _number(flag, v, key in POSITIVE, key in NON_NEGATIVE):
                continue
            if key in BELOW_ONE and not v < 1:
                raise ValueError(f"{flag}={v}: Adam's {key} must lie in [0, 1).")
            if key in ("num_steps", "checkpoint_every", "log_every", "batch_size") and v > MAX_STEPS:
                raise ValueError(f"{flag}={v}: must be at most {MAX_STEPS} (TensorFlow counts steps and "
                                 f"shapes in 32-bit integers here).")
