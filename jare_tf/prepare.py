r"""jare-prepare: prepare a dataset for the image settings where `tfds build` cannot download it.

    apt-get install dataset-fashion-mnist && jare-prepare fashion_mnist     # offline, from Debian's idx files
    jare-prepare fashion_mnist --data_dir=/data/tfds --source=/path/to/idx/files

fashion_mnist: TFDS' own `fashion_mnist` dataset (the one `tfds build fashion_mnist` makes online) is written
under --data_dir from the four original idx files in --source, each verified first (idx magic number, item
count, size and sha256 of the decompressed content; see jare_tf/data/fashion_mnist.py). CIFAR-10, CelebA and
ImageNet are prepared with `tfds build` (the missing-dataset error of jare-train says how).

TFDS' progress bars are shown on a terminal only: written into a log file they are lines of carriage returns and
escape codes.
"""

import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags, logging as absl_logging  # noqa: E402

from jare_tf import cli, config_checks  # noqa: E402

from jare_tf.data import fashion_mnist  # noqa: E402

flags.DEFINE_string("data_dir", None, "TFDS data_dir to prepare into (default: TFDS' own, ~/tensorflow_datasets).")
flags.DEFINE_string("source", fashion_mnist.DEBIAN_DIR, "Folder with the idx files (.gz or decompressed).")
FLAGS = flags.FLAGS

PREPARERS = {"fashion_mnist": fashion_mnist.prepare}


class _NotPreparedYet(logging.Filter):
    """Drops TFDS' "Variant folder <folder> has no dataset_info.json" where the folder does not exist: TFDS logs
    it when asked whether a dataset that was never prepared is prepared, the question jare-prepare asks first.
    For a folder that exists without the file (a damaged dataset), or a remote one, the warning is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != "Variant folder %s has no %s" or not record.args:
            return True
        folder = str(record.args[0])
        return "://" in folder or os.path.exists(folder)


def main(argv):
    absl_logging.set_verbosity(absl_logging.WARNING)     # TFDS' INFO lines repeat what its own output says
    problem = config_checks.positional_problem(argv, PREPARERS, "dataset", "prepare")
    if problem:
        print(f"jare-prepare: error: {problem}; jare-prepare prepares: {', '.join(PREPARERS)}.\n"
              f"usage: jare-prepare {{{'|'.join(PREPARERS)}}} [--data_dir=DIR] [--source=DIR]  (CIFAR-10, CelebA "
              f"and ImageNet: tfds build <name> --data_dir=DIR)", file=sys.stderr)
        return 2
    import tensorflow_datasets as tfds
    tfds.display_progress_bar(sys.stderr.isatty())          # tqdm writes to stderr
    logging.getLogger("absl").addFilter(_NotPreparedYet())   # TFDS logs through absl's logger
    try:
        PREPARERS[argv[1]](FLAGS.data_dir, FLAGS.source)
    except fashion_mnist.IdxFileError as e:
        print(f"jare-prepare: error: {e}", file=sys.stderr)
        return 1
    return 0


def run():
    cli.run(main, __name__)


if __name__ == "__main__":
    run()
