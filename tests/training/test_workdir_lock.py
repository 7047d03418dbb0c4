"""One run per workdir: the second of two concurrent runs is refused and the first is unharmed; a stale lock of a
dead process is taken over, by exactly one of two processes taking it over at once; a live holder, a reused PID
and another host's lock are told apart; an empty or unreadable lock is taken over, JSON that is not a lock record
is refused naming the file, and a lock that cannot be written is not left behind."""

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


def dead_pid():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


@pytest.mark.parametrize("point", ["after B judged the holder dead", "between B's open and its flock"])
def test_two_takeovers_of_one_stale_lock_leave_exactly_one_holder(tmp_path, monkeypatch, point):
    """Issue 25 item 5, a forced interleaving: B has the stale lock in hand (judged dead, or opened), A takes it over
    in that moment, then B goes on. Before, B then moved A's live lock aside and both held it."""
    lock = tmp_path / workdir_lock.TRAIN
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead_pid(), "command": "killed"}))
    a, b = WorkdirLock(str(tmp_path), log=lambda line: None), WorkdirLock(str(tmp_path), log=lambda line: None)
    a.record["command"], b.record["command"] = "A", "B"
    outcome = {}

    def a_takes_over():
        if "A" not in outcome:                          # once, at B's first pass through the point
            outcome["A"] = "busy"
            try:
                a.__enter__()
                outcome["A"] = "held"
            except WorkdirBusy:
                pass

    if point.startswith("after"):
        real_alive = workdir_lock._alive
        monkeypatch.setattr(workdir_lock, "_alive", lambda holder: (a_takes_over(), real_alive(holder))[1])
    else:
        real_flock = workdir_lock.fcntl.flock
        monkeypatch.setattr(workdir_lock.fcntl, "flock", lambda fd, op: (a_takes_over(), real_flock(fd, op))[1])
    try:
        b.__enter__()
        outcome["B"] = "held"
    except WorkdirBusy as e:
        outcome["B"] = "busy"
        assert "is in use by A" in str(e)
    assert sorted(outcome.values()) == ["busy", "held"], outcome
    holder = a if outcome["A"] == "held" else b
    assert json.loads(lock.read_text()) == holder.record
    holder.__exit__(None, None, None)
    assert not lock.exists()


@pytest.mark.parametrize("content", ['"held"', "[1, 2]", "123", "null", '{"host": HOST, "pid": null}',
                                     '{"host": HOST, "pid": 1180591620717411303424}', '{"host": HOST, "pid": "abc"}',
                                     '{"host": HOST, "pid": true}', '{"host": HOST, "pid": -4}'])
def test_a_lock_that_is_json_but_not_a_record_is_refused_naming_it_and_the_fix(tmp_path, content):
    """Issue 25 item 5: valid JSON that is not this package's record (not an object, a PID that is not one) is
    refused with WorkdirBusy naming the LOCK and what to do, never AttributeError/TypeError/OverflowError/ValueError;
    the file is left as it is."""
    lock = tmp_path / workdir_lock.TRAIN
    lock.write_text(content.replace("HOST", json.dumps(socket.gethostname())))
    before = lock.read_bytes()
    with pytest.raises(WorkdirBusy) as raised:
        WorkdirLock(str(tmp_path), log=lambda line: None).__enter__()
    message = str(raised.value)
    assert f"remove {lock} and run the command again" in message and "\n" not in message, message
    assert lock.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"\x00\x91garbage\xff", b'{"host": "vm", "pi'])
def test_an_empty_or_unreadable_lock_is_taken_over_with_a_message(tmp_path, content):
    """Issue 25 item 2: such a file is what a lock write on a full disk left (a live holder's record is complete
    before another process can read it), so it is not "another process"."""
    lock = tmp_path / workdir_lock.TRAIN
    lock.write_bytes(content)
    lines = []
    with WorkdirLock(str(tmp_path), log=lines.append) as held:
        assert json.loads(lock.read_text()) == held.record
    assert len(lines) == 1 and f"Taking over {lock}, which held no lock record" in lines[0], lines
    assert not lock.exists()


def fail_lock_writes(monkeypatch):
    """Writes to a LOCK file fail as on a full disk (ENOSPC); creating it still works, as on a full tmpfs."""
    import errno
    real_write, real_fdopen = os.write, os.fdopen

    def is_lock(fd):
        return os.readlink(f"/proc/self/fd/{fd}").endswith(os.sep + workdir_lock.TRAIN)

    def write(fd, data):
        if is_lock(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    def fdopen(fd, *args, **kwargs):
        if is_lock(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fdopen", fdopen)


def test_a_lock_that_cannot_be_written_is_not_left_behind(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        fail_lock_writes(patch)
        with pytest.raises(OSError, match="No space left"):
            WorkdirLock(str(tmp_path), log=lambda line: None).__enter__()
    assert not os.listdir(tmp_path)                    # no empty LOCK that would block the next run
    with WorkdirLock(str(tmp_path), log=lambda line: None):
        pass
