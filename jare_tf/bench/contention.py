"""How much of the machine other processes used during a timed interval (rounds above --max_contention are
left out)."""

import os
import time


class Contention:
    """The share of the machine that other processes used during an interval: all CPUs' busy time (Linux
    /proc/stat) minus this process' CPU time, over the interval's wall time × CPUs. 0 where unknown."""

    def __init__(self):
        self.available = os.path.exists("/proc/stat")
        self.cpus = os.cpu_count() or 1
        self.tick = os.sysconf("SC_CLK_TCK") if self.available else 100

    def describe(self) -> str:
        return ("other processes' CPU share from /proc/stat" if self.available
                else "not measured (no /proc/stat): every round is used")

    def _busy(self) -> float:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)          # idle + iowait
        busy = sum(fields[:8]) - idle                                       # up to steal; guest is in user
        return busy / self.tick

    def start(self) -> None:
        if self.available:
            self._t = (time.perf_counter(), time.process_time(), self._busy())

    def stop(self) -> float:
        if not self.available:
            return 0.0
        wall, own, busy = (time.perf_counter(), time.process_time(), self._busy())
        others = (busy - self._t[2]) - (own - self._t[1])
        return max(0.0, others / max(1e-9, (wall - self._t[0]) * self.cpus))
