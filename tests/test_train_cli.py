"""jare-train and jare-reproduce from the command line (subprocesses, as a user runs them)."""

import json
import os
import subprocess
import sys

import pytest


def run(module, *args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=cwd)


def test_train_writes_config_events_and_metrics_with_overrides(tmp_path):
    workdir = tmp_path / "dirac_r1"
    proc = run("jare_tf.train", "--setting=dirac", "--method=r1", "--num_steps=30", "--seed=3",
               "--config.method.options.r1.gamma=1.5", "--config.log_every=10", f"--workdir={workdir}",
               "--config.method.options.jare.gamma=7")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ("jare-train: warning: --config.method.options.jare.gamma sets an option of jare, but --method=r1 is "
            "trained") in proc.stderr                      # another method's option: run, but say it does nothing
    config = json.load(open(workdir / "config.json"))      # the overrides' keys; only the trained method's options
    assert config["num_steps"] == 30 and config["seed"] == 3
    assert config["method"] == {"name": "r1", "options": {"r1": {"gamma": 1.5}}}
    assert config["resolved_method_options"] == {"gamma": 1.5, "every": 1} and "family" not in config
    metrics = json.load(open(workdir / "metrics.json"))
    assert metrics["step"] == 30 and set(metrics) >= {"distance", "distance_ratio", "tail_mean_ratio"}
    assert any(name.startswith("events") for name in os.listdir(workdir / "train"))
    assert "step 30/30" in proc.stdout and "tensorboard --logdir" in proc.stdout


def test_image_training_from_the_command_line_resumes(tmp_path):
    workdir = tmp_path / "C_jare"
    args = ["--setting=C", "--method=jare", "--fake_data", "--batch_size=4", f"--workdir={workdir}",
            "--config.steps_per_execution=2"]
    proc = run("jare_tf.train", *args, "--num_steps=4", "--checkpoint_every=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = os.listdir(workdir / "checkpoints")
    assert "checkpoint" in files and {"ckpt-0.index", "ckpt-2.index", "ckpt-4.index"} <= set(files)   # 0: initial
    assert json.load(open(workdir / "metrics.json"))["step"] == 4
    assert json.load(open(workdir / "config.json"))["batch_size"] == 4
    proc = run("jare_tf.train", *args, "--num_steps=6")
    assert proc.returncode == 0 and "Resuming" in proc.stdout + proc.stderr
    metrics = json.load(open(workdir / "metrics.json"))
    assert metrics["step"] == 6 and "loss/d" in metrics
    events = sorted(os.listdir(workdir / "train"))
    proc = run("jare_tf.train", *args, "--num_steps=6")                 # finished: its results stay
    assert proc.returncode == 0 and "results are kept" in proc.stdout
    assert "Already finished" in proc.stdout and "Done in" not in proc.stdout
    assert json.load(open(workdir / "metrics.json")) == metrics and sorted(os.listdir(workdir / "train")) == events


def test_train_errors_are_clear_and_early(tmp_path):
    for args, message in ((["--setting=cifar"], "valid settings"),
                          (["--method=simgd"], "valid methods"),
                          (["--config.data.nope=1"], "config.data has no 'nope'"),
                          (["--setting=C", f"--data_dir={tmp_path}"], "tfds build cifar10"),
                          (["--fake_data"], "--fake_data does not apply"),
                          # γ has one home per method (tests/test_settings.py checks every setting in-process)
                          (["--setting=C", "--fake_data", "--config.method.options.jare.gamma=-1"],
                           "--config.method.options.jare.gamma=-1.0: must be >= 0"),
                          ([], "--workdir is required")):
        workdir = [] if args == [] else [f"--workdir={tmp_path}"]
        proc = run("jare_tf.train", *args, *workdir)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr[-1000:])
        assert "Traceback" not in proc.stderr


def test_image_progress_in_a_log_file_is_plain_lines_by_true_step(tmp_path):
    # 6 steps in executions of 4: Keras' bar would count 8/6; the last execution stops at step 6.
    proc = run("jare_tf.train", "--setting=C", "--method=gan", "--fake_data", "--batch_size=4", "--num_steps=6",
               "--config.log_every=2", "--config.steps_per_execution=4", f"--workdir={tmp_path / 'lines'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not any(c in proc.stdout for c in "\r\b\x1b") and "non_finite" not in proc.stdout
    steps = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("step ")]
    assert steps == ["4/6", "6/6"] and "8/6" not in proc.stdout
    assert "step 6/6 (100%)" in proc.stdout and "loss/d" in proc.stdout and "steps/s" in proc.stdout


def test_a_workdir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    proc = run("jare_tf.train", "--setting=C", "--fake_data", "--num_steps=2", f"--workdir={path}")
    assert proc.returncode == 2 and "is a file" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write into: mode 0555, and for root (whom modes do not stop) the immutable flag."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    try:
        (folder / "probe").write_text("x")
    except OSError:
        pass
    else:
        pytest.skip("this filesystem lets the test write into a read-only folder")
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


@pytest.mark.parametrize("setting", ["dirac", "C"])
def test_a_workdir_that_cannot_be_written_is_one_line(read_only_folder, setting):
    proc = run("jare_tf.train", f"--setting={setting}", "--fake_data" if setting == "C" else "--seed=1",
               "--num_steps=2", f"--workdir={read_only_folder / 'run'}")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert f"cannot write {read_only_folder / 'run'}" in proc.stderr and "pass a --workdir you can write" in proc.stderr


COMMANDS = {"jare-train": "--setting", "jare-eval": "--classifier", "jare-spectrum": "--problem",
            "jare-reproduce": "--grid", "jare-prepare": "--source", "jare-bench": "--methods"}


@pytest.mark.parametrize("command, flag", [(c, f) for c in sorted(COMMANDS) for f in ("--help", "--helpfull")]
                         + [("jare-train", "--helpshort"), ("jare-train", "-?")])
def test_installed_commands_show_their_examples_and_flags_and_exit_0(command, flag):
    """absl ends its help with status 1, which stops `jare-train --help && …` and `set -e` scripts."""
    script = os.path.join(os.path.dirname(sys.executable), command)
    proc = subprocess.run([script, flag], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    assert f"{command} " in proc.stdout and COMMANDS[command] in proc.stdout and len(proc.stdout.splitlines()) > 15


def test_a_flag_error_still_exits_1_and_helpxml_exits_0():
    script = os.path.join(os.path.dirname(sys.executable), "jare-spectrum")
    proc = subprocess.run([script, "--no_such_flag"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Unknown command line flag 'no_such_flag'" in proc.stderr
    proc = subprocess.run([script, "--helpxml"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.startswith("<?xml")


def test_helpfull_shows_the_config_default_as_the_overrides_that_set_it():
    """absl drops a default's leading spaces, so nested YAML keys looked top-level; one --config.<path>=<value>
    line per value cannot be misread."""
    script = os.path.join(os.path.dirname(sys.executable), "jare-train")
    proc = subprocess.run([script, "--setting=C", "--helpfull"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines()]
    assert "--config.game.family='vanilla'" in lines and "--config.method.options.jare.gamma=100.0" in lines
    assert "family: vanilla" not in lines


def test_reproduce_rejects_unknown_reports_and_sections(tmp_path):
    proc = run("jare_tf.reproduce", "cifar")
    assert proc.returncode == 2 and "unknown report 'cifar'" in proc.stderr and "usage" in proc.stderr
    proc = run("jare_tf.reproduce", "toy", "--only=fig9", f"--report_dir={tmp_path}")
    assert proc.returncode == 2 and "unknown section" in proc.stderr


def test_strategy_flags_are_checked_before_training(tmp_path):
    env_without_cluster = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    proc = subprocess.run([sys.executable, "-m", "jare_tf.train", "--setting=C", "--fake_data",
                           "--strategy=multi_worker", f"--workdir={tmp_path / 'mw'}"], capture_output=True,
                          text=True, env=dict(env_without_cluster, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert proc.returncode == 2 and "TF_CONFIG" in proc.stderr, proc.stderr[-2000:]
    proc = run("jare_tf.train", "--setting=isotropic", "--strategy=mirrored", f"--workdir={tmp_path / 'iso'}")
    assert proc.returncode == 2 and "toy setting" in proc.stderr, proc.stderr[-2000:]
    proc = run("jare_tf.train", "--setting=C", "--fake_data", "--num_cpu_devices=2", f"--workdir={tmp_path / 'c'}")
    assert proc.returncode == 2 and "--strategy=mirrored" in proc.stderr, proc.stderr[-2000:]
    assert not os.path.exists(tmp_path / "mw") and not os.path.exists(tmp_path / "c")
