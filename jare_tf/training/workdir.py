"""A training workdir: JSON written atomically, the saved config compared with a new run's before anything is
overwritten (a workdir never silently mixes two experiments), and the errors that end a run early. Paths go
through tf.io.gfile, so a workdir may be local or on a cloud bucket (gs://)."""

import errno
import glob
import io
import json
import os
import shutil

import numpy as np
import tensorflow as tf
from typing import Dict, Optional

from jare_tf import config_checks, settings
from jare_tf.configs import dotted


class DiskFull(RuntimeError):
    """A write into the workdir failed for lack of space (the checkpoints written before it are intact)."""


def is_out_of_space(error: BaseException) -> bool:
    """Whether `error` is an out-of-space failure: OSError ENOSPC (JSON, NumPy) or TensorFlow's own (checkpoints,
    event files), which reports it as an OpError whose message carries the OS's text."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    return isinstance(error, tf.errors.OpError) and "No space left on device" in str(error)


def disk_full(workdir: str, needed_bytes: Optional[int], kept: str) -> DiskFull:
    """The one-line error for a full disk: the path, the space free and (where known) needed, what is intact."""
    facts = []
    if "://" not in workdir:
        try:
            facts.append(f"{shutil.disk_usage(workdir).free / 2 ** 20:.1f} MiB free")
        except OSError:
            pass
    if needed_bytes:
        facts.append(f"a checkpoint needs about {needed_bytes / 2 ** 20:.1f} MiB")
    shown = f" ({'; '.join(facts)})" if facts else ""
    return DiskFull(f"no space left on the device of --workdir={workdir}{shown}; {kept}. Free space (or use "
                    f"another --workdir) and run the same command again.")


def checkpoint_bytes(prefix: str) -> int:
    """Bytes of one checkpoint's files on a local disk (0 when unknown)."""
    return sum(os.path.getsize(f) for f in glob.glob(prefix + ".*")) if prefix and "://" not in prefix else 0


class NonFiniteError(RuntimeError):
    """A loss, gradient norm, regulariser or direction became NaN/Inf; nothing non-finite was saved."""


class Preempted(RuntimeError):
    """SIGTERM arrived; a checkpoint of the current step was written first."""


def _write_atomically(path: str, data: bytes) -> None:
    """A temporary file, then rename: a reader never sees half a file (local or gs://)."""
    tmp = f"{path}.tmp"
    with tf.io.gfile.GFile(tmp, "wb") as f:
        f.write(data)
    tf.io.gfile.rename(tmp, path, overwrite=True)


def write_json(path: str, payload) -> None:
    """Write JSON atomically, never with NaN/Infinity tokens."""
    _write_atomically(path, (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode("utf-8"))


def write_npz(path: str, arrays: Dict[str, np.ndarray]) -> None:
    """np.savez atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _write_atomically(path, buffer.getvalue())


def read_npz(path: str) -> Dict[str, np.ndarray]:
    """What write_npz wrote (local or gs://)."""
    with tf.io.gfile.GFile(path, "rb") as f, np.load(io.BytesIO(f.read())) as saved:
        return {key: saved[key] for key in saved.files}


def make_workdir(workdir: str) -> None:
    """Create the workdir (local or gs://). A path that cannot be a folder is refused with the flag's name and
    why (a file, a symbolic link to nothing, a name too long for its file system); one that cannot be written
    raises PermissionError, a full disk OSError(ENOSPC)."""
    if "://" in workdir:
        if tf.io.gfile.exists(workdir) and not tf.io.gfile.isdir(workdir):
            raise ValueError(f"--workdir={workdir} is a file; pass a folder (it is created when missing).")
        try:
            tf.io.gfile.makedirs(workdir)
        except tf.errors.PermissionDeniedError:
            raise PermissionError(errno.EACCES, "permission denied", workdir) from None
        return
    problem = config_checks.workdir_problem(workdir)
    if problem:
        raise ValueError(problem)
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise PermissionError(e.errno, "read-only file system" if e.errno == errno.EROFS
                                  else "permission denied", e.filename or workdir) from None
        if e.errno == errno.ENOSPC:
            raise
        raise ValueError(f"--workdir={workdir} cannot be created ({e.strerror}); pass another folder.") from None


#: Values that may change between invocations on the same workdir without changing the experiment.
MAY_CHANGE = {"num_steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
              "steps_per_execution", "data_dir", "spectrum_every", "spectrum_k", "spectrum_operator", "image_every",
              "jit_compile"}


class ConfigConflict(ValueError):
    pass


def read_json(path: str, expect: Optional[type] = None) -> object:
    """A JSON file of a workdir; a damaged one is refused with its path and what to do, and so is one that holds
    another kind of value than `expect` (dict: config.json and metrics.json hold an object)."""
    with tf.io.gfile.GFile(path) as f:
        try:
            value = json.loads(f.read())
        except (ValueError, UnicodeDecodeError) as e:
            why = f"{type(e).__name__}: {str(e)[:120]}"
        else:
            if expect is None or isinstance(value, expect):
                return value
            why = f"it holds the JSON {type(value).__name__} {json.dumps(value)[:60]}, not an object"
    raise ValueError(f"{path} is damaged ({why}); restore it, move it away, or use another --workdir.")


def set_aside_checkpoints(workdir: str) -> Optional[str]:
    """Move <workdir>/checkpoints to checkpoints.overwritten.N (the first N free); returns that path (None when
    there is no checkpoints folder). Nothing is deleted."""
    checkpoints = os.path.join(workdir, "checkpoints")
    if not tf.io.gfile.isdir(checkpoints):
        return None
    n = 1
    while tf.io.gfile.exists(f"{checkpoints}.overwritten.{n}"):
        n += 1
    tf.io.gfile.rename(checkpoints, f"{checkpoints}.overwritten.{n}")
    return f"{checkpoints}.overwritten.{n}"


def save_config(workdir: str, config: Dict[str, object], overwrite: bool, write: bool = True,
                checkpointed: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Write <workdir>/config.json; refuse (ConfigConflict) if the one there, or the config stored in the
    workdir's checkpoints (`checkpointed`), has other experiment values, unless `overwrite` (then the previous
    checkpoints are set aside, not deleted). With write=False (the non-chief workers of a multi-worker run) only
    the refusal happens, so every worker stops, not just the chief."""
    path = os.path.join(workdir, "config.json")
    new = json.loads(json.dumps(config))
    # A config stored in the shape of an earlier version is compared (and then rewritten) in the current one.
    saved = [settings.upgraded(read_json(path, expect=dict))] if tf.io.gfile.exists(path) else []
    saved += [settings.upgraded(checkpointed)] if checkpointed is not None else []
    differ, shown = [], ""
    for old in saved:
        a, b = dotted(old), dotted(new)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k.split(".")[0] not in MAY_CHANGE)
        if differ:
            shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in differ[:6])
            break
    if saved:
        if differ and not overwrite:
            raise ConfigConflict(f"{workdir} holds a run with a different config ({shown}). Use another --workdir, "
                                 f"or pass --overwrite to start a new run there.")
        if differ and overwrite and write:
            set_aside_checkpoints(workdir)
    if write:
        write_json(path, new)
    return new


def write_config_text(writer, config: Dict[str, object], step: int) -> None:
    """The resolved config as TensorBoard text (the TEXT tab), so a run's settings are shown beside its curves."""
    text = "\n".join("    " + line for line in json.dumps(config, indent=2, sort_keys=True).splitlines())
    with writer.as_default(step=step):
        tf.summary.text("config", text)
