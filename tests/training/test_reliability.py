"""Reliability: exact resume after SIGKILL, a checkpoint on SIGTERM (and a SIGTERM never lost), the NaN/Inf guard,
clear early errors for bad input, config conflicts, unreadable checkpoints (written anew, or set aside by
--overwrite), the final metrics kept in the final checkpoint, and atomic JSON."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from jare_tf.training.workdir import write_json


def command(*args):
    return [sys.executable, "-m", "jare_tf.train", *args], dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def run(*args):
    cmd, env = command(*args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def checkpoint_values(workdir):
    reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints"))
    """Every saved tensor: both models' variables, both optimizers' slots and counters, the iteration."""
    names = sorted(n for n in reader.get_variable_to_shape_map()       # (run_config, metrics: stored strings)
                   if n != "_CHECKPOINTABLE_OBJECT_GRAPH"
                   and not n.startswith(("save_counter", "run_config", "metrics")))
    return {n: reader.get_tensor(n) for n in names}, reader


def wait_for(path, process, seconds=300):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


C = ["--setting=C", "--method=jare", "--fake_data", "--batch_size=8", "--seed=5", "--config.steps_per_execution=1"]


def test_sigkill_mid_run_then_the_same_command_resumes_exactly(tmp_path):
    args = [*C, "--checkpoint_every=10", "--num_steps=30"]
    assert run(*args, f"--workdir={tmp_path / 'straight'}").returncode == 0
    cmd, env = command(*args, f"--workdir={tmp_path / 'killed'}")
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(tmp_path / "killed" / "checkpoints" / "ckpt-10.index", process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    proc = run(*args, f"--workdir={tmp_path / 'killed'}")
    assert proc.returncode == 0 and "Resuming" in proc.stdout, proc.stderr[-2000:]
    straight, _ = checkpoint_values(tmp_path / "straight")
    resumed, _ = checkpoint_values(tmp_path / "killed")
    for name in straight:
        np.testing.assert_allclose(resumed[name], straight[name], rtol=0, atol=1e-6, err_msg=name)


def test_sigterm_writes_a_checkpoint_before_exiting(tmp_path):
    workdir = tmp_path / "run"
    cmd, env = command(*C, "--checkpoint_every=5", "--num_steps=100000", f"--workdir={workdir}")
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(workdir / "checkpoints" / "ckpt-5.index", process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err[-2000:]
    latest = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    step = int(latest.rsplit("-", 1)[1])
    assert f"checkpoint written at step {step}" in err and step >= 5   # the SIGTERM checkpoint is the latest


def test_non_finite_training_stops_with_the_step_and_quantity_and_keeps_the_last_finite_checkpoint(tmp_path):
    workdir = tmp_path / "nan"
    proc = run(*C, "--checkpoint_every=1", "--num_steps=50", "--config.optimizer.g.learning_rate=1e30",
               "--config.optimizer.d.learning_rate=1e30", f"--workdir={workdir}")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "is not finite" in proc.stderr and "Training stopped at step" in proc.stderr
    assert "Traceback" not in proc.stderr
    values, _ = checkpoint_values(workdir)
    assert all(np.all(np.isfinite(v)) for v in values.values() if np.issubdtype(v.dtype, np.floating))


def test_the_guard_also_stops_xla_compiled_training(tmp_path):
    """tf.debugging.check_numerics is compiled away by XLA (TPUs, Keras' automatic jit); the guard is not."""
    from jare_tf import settings
    from jare_tf.training.image_trainer import ImageRun
    from jare_tf.training.toy_trainer import ToyRun
    from jare_tf.training.workdir import NonFiniteError

    c = settings.load("C")
    c.fake_data, c.batch_size, c.num_steps, c.steps_per_execution = True, 2, 6, 4
    c.log_every, c.sample_every, c.checkpoint_every = 1, 0, 1
    c.optimizer.g.learning_rate = c.optimizer.d.learning_rate = 1e30
    run = ImageRun(c, "jare")
    run.model.jit_compile = True
    with pytest.raises(NonFiniteError, match=r"Training stopped at step (\d+): \S+ is not finite") as error:
        run.train(str(tmp_path / "image"), log=lambda s: None, verbose=0)
    step = int(error.value.args[0].split("step ")[1].split(":")[0])
    assert int(run.model.iteration.numpy()) == step < c.num_steps   # it stopped at the flagged step
    if os.path.isdir(tmp_path / "image" / "checkpoints"):
        values, _ = checkpoint_values(tmp_path / "image")
        assert all(np.all(np.isfinite(v)) for v in values.values() if np.issubdtype(v.dtype, np.floating))

    toy = settings.load("isotropic")
    toy.jit_compile = True
    toy.optimizer.g.learning_rate = toy.optimizer.d.learning_rate = 1e30
    with pytest.raises(NonFiniteError, match=r"training stopped at step \d+: \S+ is not finite"):
        ToyRun(toy, "jare").train(str(tmp_path / "toy"), log=lambda s: None)


@pytest.mark.parametrize("args, quantity", [
    (["--setting=dirac", "--num_steps=300", "--config.data.phi0=1e30"], "distance"),       # a metric
    (["--setting=isotropic", "--num_steps=300", "--config.data.mu=1e30"], "grad_norm/d"),
])
def test_a_non_finite_toy_metric_stops_with_its_name_and_no_finished_result(args, quantity, tmp_path):
    proc = run(*args, "--method=jare", f"--workdir={tmp_path}")
    assert proc.returncode == 1 and f"{quantity} is not finite" in proc.stderr, proc.stderr[-2000:]
    assert "JSON" not in proc.stderr and "Array must not contain" not in proc.stderr
    assert json.load(open(tmp_path / "history.json")) == {}              # it failed at step 0: no step before
    assert not (tmp_path / "metrics.json").exists()                     # not finished: a rerun trains again


def test_non_finite_toy_training_stops(tmp_path):
    proc = run("--setting=isotropic", "--method=jare", "--config.optimizer.g.learning_rate=1e30",
               "--config.optimizer.d.learning_rate=1e30", f"--workdir={tmp_path}")
    assert proc.returncode == 1 and "is not finite" in proc.stderr, proc.stderr[-2000:]


def test_a_conflicting_config_is_refused_unless_overwrite(tmp_path):
    args = ["--setting=C", "--method=gan", "--fake_data", "--batch_size=4", "--num_steps=2", f"--workdir={tmp_path}"]
    assert run(*args).returncode == 0
    proc = run(*args, "--seed=9")
    assert proc.returncode == 2 and "different config" in proc.stderr and "seed" in proc.stderr
    assert run(*args, "--num_steps=3").returncode == 0       # extending a run is not a conflict
    proc = run(*args, "--seed=9", "--overwrite")
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert os.path.isdir(tmp_path / "checkpoints.overwritten.1")
    assert json.load(open(tmp_path / "config.json"))["seed"] == 9


SMALL = ["--setting=C", "--method=gan", "--fake_data", "--batch_size=4", "--checkpoint_every=2",
         "--config.steps_per_execution=1"]


@pytest.fixture(scope="module")
def stopped_and_straight(tmp_path_factory):
    """A run stopped at step 4 (ckpt-0, 2, 4) and the same run straight to step 6, for the resume tests below."""
    root = tmp_path_factory.mktemp("resume")
    assert run(*SMALL, "--num_steps=4", f"--workdir={root / 'stopped'}").returncode == 0
    assert run(*SMALL, "--num_steps=6", f"--workdir={root / 'straight'}").returncode == 0
    return root / "stopped", checkpoint_values(root / "straight")[0]


def resumes_exactly(workdir, straight):
    resumed, _ = checkpoint_values(workdir)
    assert resumed.keys() == straight.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_unreadable_newest_checkpoints_fall_back_to_the_newest_readable_one_and_say_so(stopped_and_straight,
                                                                                        tmp_path):
    stopped, straight = stopped_and_straight
    for damage in ("truncate the data", "remove the index"):
        workdir = tmp_path / damage.replace(" ", "_")
        shutil.copytree(stopped, workdir)
        if damage == "remove the index":
            os.remove(workdir / "checkpoints" / "ckpt-4.index")
        else:
            data = workdir / "checkpoints" / "ckpt-4.data-00000-of-00001"
            data.write_bytes(data.read_bytes()[:100])
        proc = run(*SMALL, "--num_steps=6", f"--workdir={workdir}")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "cannot be read: ckpt-4" in proc.stdout and "Resuming from ckpt-2" in proc.stdout, proc.stdout
        resumes_exactly(workdir, straight)
    # A garbled state file is set aside with a message; the checkpoints are found from their files.
    workdir = tmp_path / "garbled_state"
    shutil.copytree(stopped, workdir)
    state = workdir / "checkpoints" / "checkpoint"
    state.write_bytes(state.read_bytes()[:20] + b"\x91" + state.read_bytes()[21:])
    proc = run(*SMALL, "--num_steps=6", f"--workdir={workdir}")
    assert proc.returncode == 0 and "state file" in proc.stdout and "is damaged" in proc.stdout, proc.stderr[-2000:]
    assert "Resuming" in proc.stdout and "ckpt-4 at step 4" in proc.stdout
    resumes_exactly(workdir, straight)
    # None readable: refused, never trained from step 0 over them.
    workdir = tmp_path / "none_readable"
    shutil.copytree(stopped, workdir)
    for name in os.listdir(workdir / "checkpoints"):
        if ".data-" in name:
            (workdir / "checkpoints" / name).write_bytes(b"not a checkpoint")
    proc = run(*SMALL, "--num_steps=6", f"--workdir={workdir}")
    assert proc.returncode == 2 and "No checkpoint in" in proc.stderr and "can be read" in proc.stderr
    assert "Pass --overwrite" in proc.stderr and "Traceback" not in proc.stderr


def test_a_lost_config_json_is_recreated_from_the_checkpoints_and_another_seed_refused(stopped_and_straight,
                                                                                      tmp_path):
    stopped, straight = stopped_and_straight
    workdir = tmp_path / "lost_config"
    shutil.copytree(stopped, workdir)
    original = json.load(open(workdir / "config.json"))
    os.remove(workdir / "config.json")
    proc = run(*SMALL, "--num_steps=6", "--seed=7", f"--workdir={workdir}")
    assert proc.returncode == 2 and "different config (seed:" in proc.stderr, proc.stderr[-2000:]
    assert json.load(open(workdir / "config.json")) == original          # recreated from the checkpoint
    proc = run(*SMALL, "--num_steps=6", f"--workdir={workdir}")
    assert proc.returncode == 0 and "Resuming" in proc.stdout, proc.stderr[-2000:]
    resumes_exactly(workdir, straight)


@pytest.mark.parametrize("content", ["[]", '"config"', "3", '{"seed": 1', ""])
def test_a_config_json_that_is_not_an_object_is_named_damaged_like_a_truncated_one(tmp_path, content):
    """Issue 25 item 6: `[]` gave AttributeError; every config.json that does not hold a JSON object is refused with
    its path and the fix, and left as it is."""
    from jare_tf.training.workdir import save_config
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(ValueError, match=r"config.json is damaged \(.*\); restore it, move it away, or use another "
                                         r"--workdir\.$"):
        save_config(str(tmp_path), {"seed": 1}, overwrite=False)
    assert (tmp_path / "config.json").read_text() == content


def test_json_is_written_atomically(tmp_path):
    path = str(tmp_path / "metrics.json")
    write_json(path, {"step": 1})
    with pytest.raises(ValueError):
        write_json(path, {"step": float("nan")})             # refused: the previous file stays intact
    assert json.load(open(path)) == {"step": 1}


def test_a_global_batch_that_does_not_divide_over_the_replicas_is_refused():
    """Under a two-replica strategy (two logical CPUs, in a fresh interpreter) a global batch of 5 is refused."""
    script = (
        "import tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
        "from jare_tf import settings\n"
        "from jare_tf.training.image_trainer import ImageRun\n"
        "c = settings.load('C'); c.fake_data = True; c.batch_size = 5\n"
        "with tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1']).scope():\n"
        "    try:\n"
        "        ImageRun(c, 'gan')\n"
        "    except ValueError as e:\n"
        "        print('REFUSED', e)\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert "REFUSED --batch_size=5" in proc.stdout and "2 replicas" in proc.stdout, proc.stderr[-1500:]


def tiny(num_steps):
    """Setting C on fake data, batch 2, two steps per execution and a checkpoint every 2 steps."""
    from jare_tf import settings
    c = settings.load("C")
    c.fake_data, c.batch_size, c.steps_per_execution, c.num_steps = True, 2, 2, num_steps
    c.log_every, c.sample_every, c.checkpoint_every = 2, 0, 2
    return c


def train_tiny(workdir, num_steps=4, lines=None, **kwargs):
    from jare_tf.training.image_trainer import ImageRun
    return ImageRun(tiny(num_steps), "gan").train(str(workdir), log=lines.append if lines is not None else
                                                  (lambda line: None), verbose=0, **kwargs)


@pytest.fixture(scope="module")
def finished_tiny(tmp_path_factory):
    """A finished 4-step run (ckpt-0, 2, 4 and metrics.json), trained in this process."""
    workdir = tmp_path_factory.mktemp("tiny") / "finished"
    train_tiny(workdir)
    return workdir


def garble(path):
    """4 KB of random bytes at the middle of the file, its size unchanged."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = np.random.default_rng(0).bytes(len(data[middle:middle + 4096]))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garble the data", "remove the index", "move the files away"])
def test_an_unreadable_final_checkpoint_is_written_anew_when_training_reaches_its_step(finished_tiny, tmp_path,
                                                                                       damage):
    """Issue 25 item 1: the run falls back to ckpt-2 and retrains to 4; ckpt-4 must then be readable again (the
    save at step 4 was skipped because the manager's latest checkpoint, the damaged one, had that step)."""
    workdir = tmp_path / "w"
    shutil.copytree(finished_tiny, workdir)
    final = workdir / "checkpoints" / "ckpt-4"
    if damage == "garble the data":
        garble(workdir / "checkpoints" / "ckpt-4.data-00000-of-00001")
    else:
        for suffix in (".index",) if damage == "remove the index" else (".index", ".data-00000-of-00001"):
            os.rename(f"{final}{suffix}", tmp_path / f"ckpt-4{suffix}")
    lines = []
    assert train_tiny(workdir, lines=lines)["step"] == 4
    assert any("cannot be read: ckpt-4" in line and "Resuming from ckpt-2" in line for line in lines), lines
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")) == str(final)     # the state file names it
    resumes_exactly(workdir, checkpoint_values(finished_tiny)[0])                      # readable, and the same


def test_a_run_killed_after_its_final_checkpoint_writes_the_same_metrics_json_again(finished_tiny, tmp_path):
    """Issue 25 item 3: a SIGKILL after the state file names ckpt-4 and before metrics.json is written leaves the
    finished workdir without metrics.json; the same command then writes what the uninterrupted run wrote (the
    losses, norms and seconds per step are stored in the final checkpoint), not {"step": 4}."""
    workdir = tmp_path / "w"
    shutil.copytree(finished_tiny, workdir)
    os.remove(workdir / "metrics.json")
    lines = []
    result = train_tiny(workdir, lines=lines)
    assert (workdir / "metrics.json").read_bytes() == (finished_tiny / "metrics.json").read_bytes()
    assert {"loss/d", "loss/g", "seconds_per_step"} <= set(json.load(open(workdir / "metrics.json")))
    assert result["already_finished"] and any("metrics stored in" in line for line in lines), lines
    resumes_exactly(workdir, checkpoint_values(finished_tiny)[0])                      # nothing was trained


def test_overwrite_sets_unreadable_checkpoints_aside_and_trains_from_step_0(finished_tiny, tmp_path):
    """Issue 25 item 4: when no checkpoint can be read the error advises --overwrite, and --overwrite (same config)
    then sets them aside and trains from step 0, to the parameters of a fresh run."""
    from jare_tf.training import resume
    workdir = tmp_path / "w"
    shutil.copytree(finished_tiny, workdir)
    for name in os.listdir(workdir / "checkpoints"):
        if ".data-" in name:
            (workdir / "checkpoints" / name).write_bytes(b"not a checkpoint")
    with pytest.raises(resume.NoneReadable, match="Pass --overwrite to set the folder aside"):
        train_tiny(workdir)
    lines = []
    assert train_tiny(workdir, lines=lines, overwrite=True)["step"] == 4
    aside = workdir / "checkpoints.overwritten.1"
    assert any(f"set them aside as {aside}" in line and "training from step 0" in line for line in lines), lines
    assert (aside / "ckpt-4.data-00000-of-00001").read_bytes() == b"not a checkpoint"      # kept, not deleted
    resumes_exactly(workdir, checkpoint_values(finished_tiny)[0])


@pytest.mark.parametrize("at_step, caller_handler", [(2, False), (4, False), (4, True)])
def test_a_sigterm_is_acted_on_or_passed_on_never_lost(tmp_path, monkeypatch, at_step, caller_handler):
    """K5: the SIGTERM is sent from inside the checkpoint write of step `at_step` (of 4), so its timing is exact.
    Before the last step the run stops with a checkpoint at that step (Preempted). At the last step there is
    nothing left to interrupt: the run finishes (final checkpoint, metrics.json, lock released) and the SIGTERM
    is then passed on, not lost (a process training several runs, jare-reproduce, must stop): to the handler the
    caller installed, or as Preempted where the caller has the default one. The caller's handler is put back."""
    from jare_tf.training.image_trainer import ImageRun
    from jare_tf.training.workdir import Preempted

    real_save = tf.train.CheckpointManager.save

    def save_then_sigterm(self, *args, **kwargs):
        path = real_save(self, *args, **kwargs)
        if kwargs.get("checkpoint_number") == at_step:
            os.kill(os.getpid(), signal.SIGTERM)
        return path

    monkeypatch.setattr(tf.train.CheckpointManager, "save", save_then_sigterm)
    c = tiny(4)
    c.steps_per_execution = 1
    workdir = str(tmp_path / "run")
    calls = []

    def caller(signum, frame):                        # records whether the lock was still held when it came
        calls.append(os.path.exists(os.path.join(workdir, "LOCK")))

    installed = caller if caller_handler else signal.SIG_DFL
    previous = signal.signal(signal.SIGTERM, installed)
    try:
        run = ImageRun(c, "gan")
        if at_step < c.num_steps:
            with pytest.raises(Preempted, match=f"checkpoint written at step {at_step}"):
                run.train(workdir, log=lambda line: None, verbose=0)
            assert not os.path.exists(os.path.join(workdir, "metrics.json"))
        elif caller_handler:
            assert run.train(workdir, log=lambda line: None, verbose=0)["step"] == 4
            assert calls == [False]                   # passed on once, after the lock was released
        else:
            with pytest.raises(Preempted, match="SIGTERM arrived as the run finished: it is complete at step 4"):
                run.train(workdir, log=lambda line: None, verbose=0)
        if at_step == c.num_steps:
            assert json.load(open(os.path.join(workdir, "metrics.json")))["step"] == 4
        assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith(f"ckpt-{at_step}")
        assert signal.getsignal(signal.SIGTERM) == installed and not os.path.exists(os.path.join(workdir, "LOCK"))
    finally:
        signal.signal(signal.SIGTERM, previous)
