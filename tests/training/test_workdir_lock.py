"""One run per workdir: the second of two concurrent runs is refused and the first is unharmed; a stale lock of a
dead process is taken over; a live holder, a reused PID and another host's lock are told apart."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from jare_tf.training import workdir_lock
from jare_tf.training.workdir_lock import WorkdirBusy, WorkdirLock

DIRAC = ["--setting=dirac", "--method=jare", "--num_steps=1500"]


def command(*args):
    return [sys.executable, "-m", "jare_tf.train", *args], dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def results(workdir):
    history = json.load(open(os.path.join(workdir, "history.json")))
    metrics = json.load(open(os.path.join(workdir, "metrics.json")))
    return history, {k: v for k, v in metrics.items() if "seconds" not in k}


def test_a_second_run_in_the_same_workdir_is_refused_and_the_first_is_unharmed(tmp_path):
    shared, lone = str(tmp_path / "shared"), str(tmp_path / "lone")
    cmd, env = command(*DIRAC, f"--workdir={shared}")
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    cmd_lone, _ = command(*DIRAC, f"--workdir={lone}")
    alone = subprocess.Popen(cmd_lone, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lock = os.path.join(shared, workdir_lock.TRAIN)
    deadline = time.monotonic() + 300
    while not os.path.exists(lock):
        assert first.poll() is None, first.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = subprocess.run(command(*DIRAC, f"--workdir={shared}")[0], capture_output=True, text=True, env=env,
                            timeout=300)
    assert first.poll() is None, "the first run ended before the second was refused: lengthen DIRAC"
    assert second.returncode == 2, second.stderr[-2000:]
    assert "is in use by" in second.stderr and f"PID {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.wait(timeout=600) == 0 and alone.wait(timeout=600) == 0, first.stderr.read()[-2000:]
    assert not os.path.exists(lock)                                   # released at the end
    assert results(shared) == results(lone)                          # exactly the lone run's history


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_message(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    workdir = tmp_path / "w"
    workdir.mkdir()
    (workdir / workdir_lock.TRAIN).write_text(json.dumps(
        {"host": socket.gethostname(), "pid": dead.pid, "since": "2026-01-01T00:00:00", "command": "jare-train"}))
    cmd, env = command("--setting=dirac", "--method=gan", "--num_steps=20", f"--workdir={workdir}")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"Taking over the stale lock of jare-train (host {socket.gethostname()}, PID {dead.pid}" in proc.stdout
    assert not (workdir / workdir_lock.TRAIN).exists()


def test_live_holders_reused_pids_and_other_hosts(tmp_path):
    with WorkdirLock(str(tmp_path), log=lambda line: None):
        with pytest.raises(WorkdirBusy, match=f"PID {os.getpid()}"):       # held by a live process (this one)
            WorkdirLock(str(tmp_path)).__enter__()
    assert not (tmp_path / workdir_lock.TRAIN).exists()
    # This process' PID with another start time: the PID was reused, the holder is gone.
    record = WorkdirLock(str(tmp_path)).record
    (tmp_path / workdir_lock.TRAIN).write_text(json.dumps(dict(record, pid_start="1")))
    lines = []
    with WorkdirLock(str(tmp_path), log=lines.append):
        assert lines and "stale lock" in lines[0]
    # Another host's lock is never taken over: this process cannot see whether that run is alive.
    (tmp_path / workdir_lock.TRAIN).write_text(json.dumps(dict(record, host="elsewhere", pid=1)))
    with pytest.raises(WorkdirBusy, match="host elsewhere.*remove"):
        WorkdirLock(str(tmp_path)).__enter__()
    # Training and evaluation hold different locks; the lock is released when the block raises.
    (tmp_path / workdir_lock.TRAIN).unlink()
    with pytest.raises(KeyError):
        with WorkdirLock(str(tmp_path)), WorkdirLock(str(tmp_path), name=workdir_lock.EVAL):
            raise KeyError
    assert not os.listdir(tmp_path)
