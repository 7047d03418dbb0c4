"""What the commands print for a person to read: TensorFlow's native start-up lines once and at its own level,
jare-prepare's log without progress bars or TFDS' warning about a dataset not prepared yet, no TF-GAN deprecation
notice from the scores, and a finished toy run that says it returned its saved results."""

import os
import re
import subprocess
import sys

import pytest

from jare_tf import cli

NATIVE = re.compile(r"[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+\.(?:cc|cpp|h):\d+\] (.*)")
NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def command(module, *args, **env):
    environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=600,
                          env=dict(environ, **env))


def native_messages(text):
    return [m.group(1) for m in map(NATIVE.fullmatch, text.splitlines()) if m]


def test_native_start_up_lines_follow_the_level_and_come_once():
    text = (f"{NOTICE}\n"
            "I0000 00:00:1796195567.233497    4292 port.cc:153] oneDNN custom operations are on.\n"
            "W0000 00:00:1796195567.233916    4292 cudart_stub.cc:31] Could not find cuda drivers.\n"
            "/site-packages/x.py:3: UserWarning: a Python warning\n"
            f"{NOTICE}\n"
            "I0000 00:00:1796195570.660093    4292 port.cc:153] oneDNN custom operations are on.\n"
            "W0000 00:00:1796195570.661072    4292 cudart_stub.cc:31] Could not find cuda drivers.\n"
            "I1202 07:14:43.264056 140044319509376 dataset_builder.py:711] absl's Python logging is kept\n")
    python_lines = ("/site-packages/x.py:3: UserWarning: a Python warning\n"
                    "I1202 07:14:43.264056 140044319509376 dataset_builder.py:711] absl's Python logging is kept\n")
    assert cli.native_start_up_lines(text, 0) == (
        "I0000 00:00:1796195567.233497    4292 port.cc:153] oneDNN custom operations are on.\n"
        "W0000 00:00:1796195567.233916    4292 cudart_stub.cc:31] Could not find cuda drivers.\n" + python_lines)
    assert cli.native_start_up_lines(text, 1) == (
        "W0000 00:00:1796195567.233916    4292 cudart_stub.cc:31] Could not find cuda drivers.\n" + python_lines)
    assert cli.native_start_up_lines(text, 3) == python_lines


def test_a_command_prints_tensorflows_start_up_lines_once_and_none_at_its_default_level():
    """TensorFlow's two native libraries each printed absl's notice and the oneDNN and CUDA-driver lines."""
    shown = command("jare_tf.spectrum", "--problem=dirac", "--method=gan", TF_CPP_MIN_LOG_LEVEL="0")
    assert shown.returncode == 0, shown.stderr[-2000:]
    messages = native_messages(shown.stderr)
    assert NOTICE not in shown.stderr and len(messages) == len(set(messages)), shown.stderr
    quiet = command("jare_tf.spectrum", "--problem=dirac", "--method=gan")      # the commands' level: 3
    assert quiet.returncode == 0 and native_messages(quiet.stderr) == [] and NOTICE not in quiet.stderr
    assert "eigenvalues" in quiet.stdout


def test_scores_print_no_tf_gan_deprecation_notice():
    """TF-GAN's KID calls tf.map_fn(..., back_prop=False): an 8-line "is deprecated" notice on its first call."""
    proc = subprocess.run([sys.executable, "-c", "import numpy as np; from jare_tf.evaluation import image_metrics; "
                           "a = np.random.default_rng(0).normal(size=(64, 8)); "
                           "print(image_metrics.kid(a, a + 1.0))"],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "deprecated" not in proc.stderr and "back_prop" not in proc.stderr, proc.stderr[-2000:]


def test_a_log_of_jare_prepare_is_plain_lines(tmp_path):
    """Redirected, the log had TFDS' progress bars (carriage returns, escape codes), its warning that the folder
    about to be written has no dataset_info.json, its INFO lines and TensorFlow's start-up lines twice."""
    from jare_tf.data import fashion_mnist
    if not os.path.exists(os.path.join(fashion_mnist.DEBIAN_DIR, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST idx files not installed ({fashion_mnist.INSTALL})")
    log = tmp_path / "prepare.log"
    with open(log, "w") as out:
        proc = subprocess.run([sys.executable, "-m", "jare_tf.prepare", "fashion_mnist",
                               f"--data_dir={tmp_path / 'tfds'}"], stdout=out, stderr=subprocess.STDOUT, timeout=600,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0"))
    text = log.read_text()
    assert proc.returncode == 0 and "Prepared fashion_mnist (train: 60000, test: 10000)" in text, text[-2000:]
    assert "\x1b" not in text and "\r" not in text and "dataset_info.json" not in text, text[-2000:]
    messages = native_messages(text)
    assert len(messages) == len(set(messages)) and NOTICE not in text, text
    again = command("jare_tf.prepare", "fashion_mnist", f"--data_dir={tmp_path / 'tfds'}")
    assert again.returncode == 0 and again.stdout.startswith("fashion_mnist is already prepared")
    assert again.stderr == "", again.stderr


@pytest.mark.parametrize("folder_exists, kept", [(False, False), (True, True)])
def test_tfds_warning_of_a_folder_without_dataset_info_is_kept_where_the_folder_exists(tmp_path, folder_exists,
                                                                                       kept):
    # In its own process: jare_tf.prepare defines absl flags (--data_dir) that another command's module, imported
    # by an earlier test in the same worker, may define too.
    folder = tmp_path / "fashion_mnist" / "3.0.1"
    if folder_exists:
        folder.mkdir(parents=True)           # a damaged dataset: the warning says something
    code = ("import logging, sys\n"
            "from jare_tf import prepare\n"
            "folder = sys.argv[1]\n"
            "record = logging.LogRecord('absl', logging.WARNING, 'file_utils.py', 394, 'Variant folder %s has no %s',"
            " (folder, 'dataset_info.json'), None)\n"
            "other = logging.LogRecord('absl', logging.WARNING, 'x.py', 1, 'Something else %s', (folder,), None)\n"
            "print(prepare._NotPreparedYet().filter(record), prepare._NotPreparedYet().filter(other))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [str(kept), "True"]


def test_a_finished_toy_run_says_it_returned_its_saved_results(tmp_path):
    args = ("--setting=dirac", "--method=gan", "--num_steps=3", f"--workdir={tmp_path / 'run'}")
    first = command("jare_tf.train", *args)
    assert first.returncode == 0 and "Done in" in first.stdout, first.stderr[-2000:]
    again = command("jare_tf.train", *args)
    assert again.returncode == 0 and "Done in" not in again.stdout, again.stdout
    assert "is finished (3 steps); its saved results are kept" in again.stdout
    assert "Already finished: the saved results are returned, nothing was trained." in again.stdout
