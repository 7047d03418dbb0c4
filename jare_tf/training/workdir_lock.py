"""One run per workdir: a lock file held for the life of a run (jare-train, toy and image), and one evaluator
per workdir for jare-eval's writes to eval.json.

The locks are `<workdir>/LOCK` (training) and `<workdir>/EVAL_LOCK` (evaluation: jare-eval --follow beside the
training it evaluates is the normal case, two evaluators writing one eval.json is not); each is a JSON record of the holder (host, PID, the PID's start time, the time it was
taken and the command). It is created with O_CREAT | O_EXCL, which is atomic on a local file system and on NFS
v3 and later, so of two processes started together exactly one gets it; the other stops with `WorkdirBusy`
(jare-train and jare-eval exit 2) naming the holder. It is removed on every exit path of the `with` block
(normal end, errors, SIGTERM, Ctrl-C); a SIGKILLed or crashed holder leaves it behind, and such a stale lock is
taken over with a message when its host is this host and its process is gone (the PID's start time tells a
reused PID from the holder). A lock from another host is never taken over: this process cannot see whether that
run is alive; the message says to remove the file once it is not.

Cloud paths (gs://…) have no atomic create through tf.io.gfile: there the lock is written, read back and
compared, which stops a second run started after the first but can let two runs started within the same second
both proceed. Multi-worker runs: only the chief holds the lock (the other workers never write into the workdir).
"""

import datetime
import json
import os
import socket
import sys
from typing import Callable, Dict, Optional

TRAIN, EVAL = "LOCK", "EVAL_LOCK"


class WorkdirBusy(RuntimeError):
    """Another live process holds the workdir."""


def _process_start(pid: int) -> Optional[str]:
    """The start time of `pid` (clock ticks since boot, /proc/<pid>/stat field 22), or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(holder: Dict[str, object]) -> bool:
    """Whether the holder's process (on this host) still runs: its PID exists with the same start time."""
    pid = int(holder.get("pid", -1))
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                                   # another user's process with that PID: it exists
    started = _process_start(pid)
    return started is None or holder.get("pid_start") in (None, started)


def describe(holder: Dict[str, object]) -> str:
    return (f"{holder.get('command', '?')} (host {holder.get('host', '?')}, PID {holder.get('pid', '?')}, since "
            f"{holder.get('since', '?')})")


class WorkdirLock:
    """`with WorkdirLock(workdir, "jare-train"):` holds the workdir's lock for the block (see the module doc)."""

    def __init__(self, workdir: str, log: Callable[[str], None] = print, enabled: bool = True, name: str = TRAIN):
        self.workdir, self.log, self.enabled = workdir, log, enabled
        self.path = os.path.join(workdir, name)
        self.kind = "run" if name == TRAIN else "evaluator"
        self.record = {"host": socket.gethostname(), "pid": os.getpid(), "pid_start": _process_start(os.getpid()),
                       "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                       "command": " ".join([os.path.basename(sys.argv[0] or "python")] + sys.argv[1:])[:500]}
        self.held = False

    # --- local files: atomic create ---------------------------------------------------------------------------
    def _create_local(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump(self.record, f)
        return True

    def _read_local(self) -> Optional[Dict[str, object]]:
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}                          # a lock being written, or a damaged one: treated as held

    def _acquire_local(self) -> None:
        for _ in range(3):
            if self._create_local():
                return
            holder = self._read_local()
            if holder is None:                 # released between our create and our read: try again
                continue
            if holder and holder.get("host") == self.record["host"] and not _alive(holder):
                # Stale: move it aside atomically (of two processes taking it over, one rename succeeds).
                aside = f"{self.path}.stale.{os.getpid()}"
                try:
                    os.replace(self.path, aside)
                except FileNotFoundError:
                    continue
                self.log(f"Taking over the stale lock of {describe(holder)}, which is no longer running.")
                os.remove(aside)
                continue
            raise WorkdirBusy(self._busy_message(holder))
        raise WorkdirBusy(self._busy_message(self._read_local() or {}))

    # --- cloud paths: write, read back, compare ---------------------------------------------------------------
    def _acquire_gfile(self) -> None:
        import tensorflow as tf
        if tf.io.gfile.exists(self.path):
            with tf.io.gfile.GFile(self.path) as f:
                try:
                    holder = json.load(f)
                except ValueError:
                    holder = {}
            raise WorkdirBusy(self._busy_message(holder))
        with tf.io.gfile.GFile(self.path, "w") as f:
            json.dump(self.record, f)
        with tf.io.gfile.GFile(self.path) as f:
            if json.load(f) != self.record:
                raise WorkdirBusy(self._busy_message({}))

    def _busy_message(self, holder: Dict[str, object]) -> str:
        who = describe(holder) if holder else "another process"
        return (f"{self.workdir} is in use by {who}: one {self.kind} per workdir. Wait for it to end or use another "
                f"--workdir; if that process is gone (it ran on another host, or the lock is damaged), remove "
                f"{self.path}.")

    def __enter__(self) -> "WorkdirLock":
        if not self.enabled:
            return self
        if "://" in self.path:
            self._acquire_gfile()
        else:
            self._acquire_local()
        self.held = True
        return self

    def __exit__(self, *exc) -> None:
        if not self.held:
            return
        self.held = False
        if "://" in self.path:
            import tensorflow as tf
            tf.io.gfile.remove(self.path)
            return
        if self._read_local() == self.record:   # never remove a lock that another process has taken over
            os.remove(self.path)
