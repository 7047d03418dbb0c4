"""Where an image run starts: the newest readable checkpoint of its workdir, checked against the config stored
inside it.

Every checkpoint carries the run's resolved config (a string variable `run_config` beside the models, the
optimizers and the iteration), so the config a checkpoint was trained under cannot go missing with config.json:
a missing config.json is recreated from it, and a command whose config differs in an experiment value is refused
with the same message and `--overwrite` rule as a differing config.json. When the newest checkpoint cannot be
read (its files moved away, its index deleted, its data damaged, or the state file lost), the run resumes from
the newest one that can and says which and why; it never starts from step 0 over checkpoints without saying so,
and when none of them can be read it stops instead.
"""

import json
import os
import re
from typing import Callable, Dict, List, Optional, Tuple

import tensorflow as tf
from google.protobuf import text_format

#: The checkpoint key of the stored config (tf.train.Checkpoint attribute `run_config`).
CONFIG_KEY = "run_config/.ATTRIBUTES/VARIABLE_VALUE"


def config_variable(config: Dict[str, object]) -> tf.Variable:
    """The variable a checkpoint stores the resolved config in (created outside any distribution strategy)."""
    with tf.init_scope():
        return tf.Variable(json.dumps(config, sort_keys=True), dtype=tf.string, trainable=False, name="run_config")


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

    def number(prefix: str) -> int:
        match = re.search(r"ckpt-(\d+)$", prefix)
        return int(match.group(1)) if match else -1

    return sorted(found, key=number, reverse=True)


def stored_config(prefix: str) -> Optional[Dict[str, object]]:
    """The config stored in a checkpoint; None for one written before configs were stored, or unreadable."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        if not reader.has_tensor(CONFIG_KEY):
            return None
        return json.loads(reader.get_tensor(CONFIG_KEY))
    except (tf.errors.OpError, ValueError, OSError, IndexError):
        return None


def _reason(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:160]}"


def restore_newest(checkpoint: tf.train.Checkpoint, directory: str,
                   log: Callable[[str], None]) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """Restore the newest readable checkpoint of `directory` into `checkpoint`; returns (its prefix or None when
    the folder holds none, [(unreadable newer prefix, why)]). Raises ValueError when checkpoints exist but none
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
        raise ValueError(f"No checkpoint in {directory} can be read ({shown}). Move them away to train from step "
                         f"0, pass --overwrite (they are set aside, not deleted), or use another --workdir.")
    return None, skipped
