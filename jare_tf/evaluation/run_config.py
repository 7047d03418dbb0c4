"""The saved config of a jare-train image workdir, or an error that says what --workdir is instead.

Local paths are read with the standard library, so jare-eval names a wrong --workdir before TensorFlow is
imported (seconds of CPU); cloud paths (gs://…) go through tf.io.gfile.
"""

import json
import os
from typing import Dict


def _filesystem(path: str):
    """(exists, isdir, open) for `path`: os for local paths, tf.io.gfile for URLs."""
    if "://" not in path:
        return os.path.exists, os.path.isdir, open
    import tensorflow as tf
    return tf.io.gfile.exists, tf.io.gfile.isdir, tf.io.gfile.GFile


def image_run_config(workdir: str) -> Dict[str, object]:
    exists, isdir, open_file = _filesystem(workdir)
    if not exists(workdir):
        raise ValueError(f"--workdir={workdir} does not exist (a jare-train image workdir is expected).")
    if not isdir(workdir):
        raise ValueError(f"--workdir={workdir} is a file, not a jare-train workdir.")
    path = os.path.join(workdir, "config.json")
    if not exists(path):
        raise ValueError(f"--workdir={workdir} has no config.json: not a jare-train image workdir.")
    with open_file(path) as f:
        config = json.load(f)
    if "architecture" not in config:
        raise ValueError(f"{workdir} is a toy run ({config.get('setting')}); jare-eval evaluates images.")
    return config
