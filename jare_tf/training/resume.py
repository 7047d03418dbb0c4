"""Where an image run starts: the newest readable checkpoint of its workdir, checked against the config stored
inside it.

Every checkpoint carries the run's resolved config (a string variable `run_config` beside the models, the
optimizers and the iteration), so the config a checkpoint was trained under cannot go missing with config.json:
a missing config.json is recreated from it, and a command whose config differs in an experiment value is refused
with the same message and `--overwrite` rule as a differing config.json. When the newest checkpoint cannot be
read (its files moved away, its index deleted, its data damaged, or the state file lost), the run resumes from
the newest one that can and says which and why, and the unreadable ones are written anew as training reaches
their steps. It never starts from step 0 over checkpoints without saying so: when none of them can be read it
stops (`NoneReadable`) unless --overwrite asks to set them aside.

Every checkpoint also carries the metrics of its step (`metrics`: the step, the losses and norms logged there and
the seconds per step of the run so far), so a run killed after its final checkpoint and before metrics.json
writes the same metrics.json when it runs again.
"""

import json
import os
import re
from typing import Callable, Dict, List, Optional, Tuple

import tensorflow as tf
from google.protobuf import text_format

#: The checkpoint key of the stored config (tf.train.Checkpoint attribute `run_config`).
CONFIG_KEY = "run_config/.ATTRIBUTES/VARIABLE_VALUE"
#: The checkpoint key of the metrics of the checkpoint's step (tf.train.Checkpoint attribute `metrics`).
METRICS_KEY = "metrics/.ATTRIBUTES/VARIABLE_VALUE"


class NoneReadable(ValueError):
    """The checkpoints folder holds checkpoints, and none of them can be read."""


def config_variable(config: Dict[str, object]) -> tf.Variable:
    """The variable a checkpoint stores the resolved config in (created outside any distribution strategy)."""
    with tf.init_scope():
        return tf.Variable(json.dumps(config, sort_keys=True), dtype=tf.string, trainable=False, name="run_config")


def metrics_variable() -> tf.Variable:
    """The variable a checkpoint stores the metrics of its step in (JSON; set before each save)."""
    with tf.init_scope():
        return tf.Variable("{}", dtype=tf.string, trainable=False, name="metrics")


def checkpoint_step(prefix: str) -> int:
    """The step in a checkpoint's name (…/ckpt-N), -1 for another name."""
    match = re.search(r"ckpt-(\d+)$", prefix or "")
    return int(match.group(1)) if match else -1


def set_aside_a_damaged_state_file(directory: str, log: Callable[[str], None]) -> None:
    """A state file (`checkpoints/checkpoint`) that cannot be parsed is moved to checkpoint.damaged, with a
    message: the checkpoints are then found from their own files, and the manager writes a new state file."""
    path = os.path.join(directory, "checkpoint")
    if not tf.io.gfile.exists(path):
        return
    try:
        tf.train.get_checkpoint_state(directory)
    except (ValueError, tf.errors.OpError, text_format.ParseError) as e:
        tf.io.gfile.rename(path, path + ".damaged", overwrite=True)
        log(f"The checkpoint state file {path} is damaged ({_reason(e)}); set aside as {path}.damaged. The "
            f"checkpoints are found from their files.")


def candidates(directory: str) -> List[str]:
    """Checkpoint prefixes in `directory`, newest first: those the state file lists and those on disk."""
    found = set()
    state = tf.train.get_checkpoint_state(directory) if tf.io.gfile.isdir(directory) else None
    if state is not None:
        for path in list(state.all_model_checkpoint_paths) + [state.model_checkpoint_path]:
            found.add(path if os.path.isabs(path) or "://" in path else os.path.join(directory, path))
    for index in tf.io.gfile.glob(os.path.join(directory, "ckpt-*.index")):
        found.add(index[:-len(".index")])
    return sorted(found, key=checkpoint_step, reverse=True)


def _stored(prefix: str, key: str) -> Optional[Dict[str, object]]:
    try:
        reader = tf.train.load_checkpoint(prefix)
        if not reader.has_tensor(key):
            return None
        value = json.loads(reader.get_tensor(key))
    except (tf.errors.OpError, ValueError, OSError, IndexError):
        return None
    return value if isinstance(value, dict) else None


def stored_config(prefix: str) -> Optional[Dict[str, object]]:
    """The config stored in a checkpoint; None for one written before configs were stored, or unreadable."""
    return _stored(prefix, CONFIG_KEY)


def stored_metrics(prefix: str) -> Optional[Dict[str, object]]:
    """The metrics stored in a checkpoint (those of its step); None for one written before metrics were stored,
    or unreadable."""
    return _stored(prefix, METRICS_KEY)


def _reason(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:160]}"


def restore_newest(checkpoint: tf.train.Checkpoint, directory: str,
                   log: Callable[[str], None]) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """Restore the newest readable checkpoint of `directory` into `checkpoint`; returns (its prefix or None when
    the folder holds none, [(unreadable newer prefix, why)]). Raises NoneReadable when checkpoints exist but none
    can be read (training from step 0 over them would hide that)."""
    skipped = []
    found = candidates(directory)
    for prefix in found:
        if not tf.io.gfile.exists(prefix + ".index"):
            skipped.append((prefix, "its .index file is missing"))
            continue
        try:
            checkpoint.restore(prefix).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError, IndexError, OSError) as e:
            skipped.append((prefix, _reason(e)))
            continue
        if skipped:
            log(f"The newest checkpoint{'s' if len(skipped) > 1 else ''} cannot be read: "
                + "; ".join(f"{os.path.basename(p)} ({why})" for p, why in skipped)
                + f". Resuming from {os.path.basename(prefix)}, the newest readable one; the unreadable ones are "
                  f"replaced as training reaches their steps.")
        return prefix, skipped
    if found:
        shown = "; ".join(f"{os.path.basename(p)} ({why})" for p, why in skipped[:4])
        raise NoneReadable(f"No checkpoint in {directory} can be read ({shown}). Pass --overwrite to set the folder "
                           f"aside (as checkpoints.overwritten.N; nothing is deleted) and train from step 0, or use "
                           f"another --workdir.")
    return None, skipped
