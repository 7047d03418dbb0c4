"""A training workdir: JSON written atomically, the saved config compared with a new run's before anything is
overwritten (a workdir never silently mixes two experiments), and the errors that end a run early. Paths go
through tf.io.gfile, so a workdir may be local or on a cloud bucket (gs://)."""

import json
import os

import tensorflow as tf
from typing import Dict

from jare_tf.configs import dotted


class NonFiniteError(RuntimeError):
    """A loss, gradient norm, regulariser or direction became NaN/Inf; nothing non-finite was saved."""


class Preempted(RuntimeError):
    """SIGTERM arrived; a checkpoint of the current step was written first."""


def write_json(path: str, payload) -> None:
    """Write JSON atomically (write a temporary file, then rename), never with NaN/Infinity tokens."""
    tmp = f"{path}.tmp"
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)

def make_workdir(workdir: str) -> None:
    """Create the workdir (local or gs://); a path that is a file is refused with the flag's name."""
    if tf.io.gfile.exists(workdir) and not tf.io.gfile.isdir(workdir):
        raise ValueError(f"--workdir={workdir} is a file; pass a folder (it is created when missing).")
    tf.io.gfile.makedirs(workdir)


#: Values that may change between invocations on the same workdir without changing the experiment.
MAY_CHANGE = {"num_steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
              "steps_per_execution", "data_dir", "spectrum_every", "image_every"}


class ConfigConflict(ValueError):
    pass


def save_config(workdir: str, config: Dict[str, object], overwrite: bool, write: bool = True) -> Dict[str, object]:
    """Write <workdir>/config.json; refuse (ConfigConflict) if one with other experiment values is there, unless
    `overwrite` (then the previous checkpoints are set aside, not deleted). With write=False (the non-chief
    workers of a multi-worker run) only the refusal happens, so every worker stops, not just the chief."""
    path = os.path.join(workdir, "config.json")
    new = json.loads(json.dumps(config))
    if tf.io.gfile.exists(path):
        with tf.io.gfile.GFile(path) as f:
            old = json.load(f)
        a, b = dotted(old), dotted(new)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k.split(".")[0] not in MAY_CHANGE)
        if differ and not overwrite:
            shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in differ[:6])
            raise ConfigConflict(f"{workdir} holds a run with a different config ({shown}). Use another --workdir, "
                                 f"or pass --overwrite to start a new run there.")
        if differ and overwrite and write:
            checkpoints = os.path.join(workdir, "checkpoints")
            if tf.io.gfile.isdir(checkpoints):
                n = 1
                while tf.io.gfile.exists(f"{checkpoints}.overwritten.{n}"):
                    n += 1
                tf.io.gfile.rename(checkpoints, f"{checkpoints}.overwritten.{n}")
    if write:
        write_json(path, new)
    return new


def write_config_text(writer, config: Dict[str, object], step: int) -> None:
    """The resolved config as TensorBoard text (the TEXT tab), so a run's settings are shown beside its curves."""
    text = "\n".join("    " + line for line in json.dumps(config, indent=2, sort_keys=True).splitlines())
    with writer.as_default(step=step):
        tf.summary.text("config", text)
