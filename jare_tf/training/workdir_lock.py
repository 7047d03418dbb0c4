"""One run per workdir: a lock file held for the life of a run (jare-train, toy and image), and one evaluator
per workdir for jare-eval's writes to eval.json.

The locks are `<workdir>/LOCK` (training) and `<workdir>/EVAL_LOCK` (evaluation: jare-eval --follow beside the
training it evaluates is the normal case, two evaluators writing one eval.json is not); each is a JSON record of
the holder (host, PID, the PID's start time, the time it was taken and the command). The holder keeps the file
open under an exclusive `flock` for as long as it runs, and the kernel drops that lock when the process ends,
however it ends. So the lock is taken atomically, also over a stale one: a process that gets the flock is the
only holder, and a second process, started at the same instant or taking over the same stale lock, fails to
get it and stops with `WorkdirBusy` (jare-train and jare-eval exit 2) naming the holder. The file is created with
O_CREAT | O_EXCL and removed on every exit path of the `with` block (normal end, errors, SIGTERM, Ctrl-C) while
the flock is still held; a process that got the flock of a file just removed sees that its path now names
another file (or none) and tries again.

A SIGKILLed or crashed holder leaves the file behind, with no flock on it. Such a stale lock is taken over with
a message when its record names this host and a process that is gone (the PID's start time tells a reused PID
from the holder; a record whose process still runs, e.g. a run of an earlier version that held no flock, is
respected). A file with no readable record (empty or not JSON, as a write on a full disk leaves it) is taken
over with a message too: a live holder's record is complete before anything else can read the file. A record
from another host is never taken over (this process cannot see whether that run is alive), nor one that is JSON
but not a record of this package (not an object, a PID that is not a process ID): the message names the file
to remove once no run uses the workdir. If the lock cannot be written (a full disk) nothing is left behind.

On a file system without flock the create is still atomic, but a takeover is check-then-act. Cloud paths
(gs://…) have no atomic create through tf.io.gfile: there the lock is written, read back and compared, which
stops a second run started after the first but can let two runs started within the same second both proceed.
Multi-worker runs: only the chief holds the lock (the other workers never write into the workdir).
"""

import datetime
import errno
import fcntl
import json
import os
import socket
import sys
from typing import Callable, Dict, Optional, Tuple

TRAIN, EVAL = "LOCK", "EVAL_LOCK"
#: PIDs are positive and below Linux' largest pid_max (2**22); anything else in a record is not a process ID.
MAX_PID = 2 ** 22
#: Errors of flock on a file system that has no such locks.
_NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS)


class WorkdirBusy(RuntimeError):
    """Another live process holds the workdir (or its lock file cannot be told from one: the message says)."""


def _process_start(pid: int) -> Optional[str]:
    """The start time of `pid` (clock ticks since boot, /proc/<pid>/stat field 22), or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(holder: Dict[str, object]) -> bool:
    """Whether the holder's process (on this host; its PID checked by `_not_a_record`) still runs: its PID
    exists with the same start time."""
    pid = holder["pid"]
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


def _parse(data: bytes) -> Tuple[Optional[object], Optional[str]]:
    """(the JSON value of a lock file, None) or (None, why it has none: empty, not UTF-8 JSON)."""
    if not data.strip():
        return None, "it is empty"
    try:
        return json.loads(data.decode("utf-8")), None
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"it is not JSON ({type(e).__name__})"


def _not_a_record(value: object, host: str) -> Optional[str]:
    """Why a lock file's JSON value is not a holder's record this package writes (None when it is one). A PID
    is checked only for this host's records: only those are looked up."""
    if not isinstance(value, dict):
        return f"it holds the JSON {type(value).__name__} {json.dumps(value)[:60]}, not an object"
    pid = value.get("pid")
    if value.get("host") == host and (isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < MAX_PID):
        return f"its PID {json.dumps(pid)[:30]} is not a process ID"
    return None


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
        self._fd: Optional[int] = None

    # --- local files: O_EXCL create, flock held for the life of the run ---------------------------------------
    def _open(self) -> Tuple[Optional[int], bool]:
        """(a descriptor of the lock file, whether this call created it); (None, False) when it vanished."""
        try:
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
            except FileExistsError:
                return os.open(self.path, os.O_RDWR), False
        except FileNotFoundError:
            if not os.path.isdir(self.workdir):
                raise
            return None, False                 # released between our two opens: try again
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise PermissionError(e.errno, "read-only file system" if e.errno == errno.EROFS
                                      else "permission denied", self.path) from None
            raise

    @staticmethod
    def _read(fd: int) -> bytes:
        return os.pread(fd, 1 << 16, 0)

    def _same_file(self, fd: int) -> bool:
        """Whether the lock's path still names the file `fd` is open on (a releasing holder removes it)."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def _claim(self, fd: int, flocked: bool) -> None:
        """With the flock of a lock file found in place: return if its holder is gone (it is taken over), or raise
        WorkdirBusy."""
        value, unreadable = _parse(self._read(fd))
        if unreadable is not None:
            if not flocked:                    # without flock a holder may be writing it right now
                raise WorkdirBusy(self._busy_message({}))
            self.log(f"Taking over {self.path}, which held no lock record ({unreadable}: left by a {self.kind} "
                     f"that could not write it, e.g. on a full disk).")
            return
        why = _not_a_record(value, self.record["host"])
        if why is not None:
            raise WorkdirBusy(f"{self.path} is not a lock of this package ({why}), so whether a {self.kind} uses "
                              f"{self.workdir} cannot be told. If none does, remove {self.path} and run the "
                              f"command again.")
        if value.get("host") != self.record["host"] or _alive(value):
            raise WorkdirBusy(self._busy_message(value))
        self.log(f"Taking over the stale lock of {describe(value)}, which is no longer running.")

    def _write_record(self, fd: int) -> None:
        data = json.dumps(self.record).encode("utf-8")
        os.ftruncate(fd, 0)
        if os.write(fd, data) != len(data):
            raise OSError(errno.ENOSPC, "No space left on device", self.path)

    def _acquire_local(self) -> None:
        for _ in range(5):
            fd, created = self._open()
            if fd is None:
                continue
            try:
                flocked = True
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:        # a live holder has it
                    value, unreadable = _parse(self._read(fd))
                    holder = value if unreadable is None and _not_a_record(value, "") is None else {}
                    raise WorkdirBusy(self._busy_message(holder))
                except OSError as e:
                    if e.errno not in _NO_FLOCK:
                        raise
                    flocked = False
                if flocked and not self._same_file(fd):
                    os.close(fd)               # removed by its releasing holder after we opened it
                    fd = None
                    continue
                if not created:
                    self._claim(fd, flocked)
                try:
                    self._write_record(fd)
                except OSError:                # a full disk: leave no empty or partial lock behind
                    if self._same_file(fd):
                        os.remove(self.path)
                    raise
            except BaseException:
                if fd is not None:
                    os.close(fd)
                raise
            self._fd = fd
            return
        raise WorkdirBusy(self._busy_message({}))

    # --- cloud paths: write, read back, compare ---------------------------------------------------------------
    def _acquire_gfile(self) -> None:
        import tensorflow as tf
        if tf.io.gfile.exists(self.path):
            with tf.io.gfile.GFile(self.path, "rb") as f:
                value, unreadable = _parse(f.read())
            holder = value if unreadable is None and _not_a_record(value, "") is None else {}
            raise WorkdirBusy(self._busy_message(holder))
        with tf.io.gfile.GFile(self.path, "w") as f:
            json.dump(self.record, f)
        with tf.io.gfile.GFile(self.path, "rb") as f:
            if _parse(f.read())[0] != self.record:
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
        fd, self._fd = self._fd, None
        try:
            # Removed while the flock is held; never a file that is not ours (removed and made anew by hand).
            if self._same_file(fd) and _parse(self._read(fd))[0] == self.record:
                os.remove(self.path)
        finally:
            os.close(fd)
