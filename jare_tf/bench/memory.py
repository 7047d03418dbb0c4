"""Peak memory of one call: TensorFlow's allocator statistics where the device keeps them, else the process'
peak resident set size (jare-bench's docstring says how)."""

import os


def _return_free_heap() -> None:
    """Give memory freed by earlier calls back to the OS (glibc `malloc_trim`), so that the resident set before a
    call is what is live: otherwise a call that reuses another method's freed buffers looks smaller than it is."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):             # not glibc: the baseline keeps the freed memory
        pass


class Memory:
    """Peak working memory of one call: allocator statistics where kept, else the process' peak RSS."""

    def __init__(self, device: str):
        import tensorflow as tf
        self.tf, self.device = tf, device
        self.source = "rss"
        try:
            tf.config.experimental.reset_memory_stats(device)
            probe = tf.zeros([256, 1024]) + 1.0           # 1 MiB: a device that keeps statistics sees it
            if tf.config.experimental.get_memory_info(device)["peak"] >= probe.shape.num_elements() * 4:
                self.source = "allocator"
            del probe
        except (ValueError, RuntimeError, tf.errors.OpError):
            pass
        if self.source == "rss" and not os.access("/proc/self/clear_refs", os.W_OK):
            self.source = "rss_maxrss"

    def describe(self) -> str:
        return {"allocator": f"TensorFlow allocator peak on {self.device} (get_memory_info)",
                "rss": "process peak RSS (VmHWM, reset via /proc/self/clear_refs after malloc_trim)",
                "rss_maxrss": "process peak RSS (ru_maxrss; monotone, so an upper bound after the first method)",
                }[self.source]

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def measure(self, fn) -> int:
        """Bytes above the pre-call level at the peak of fn()."""
        tf = self.tf
        if self.source == "allocator":
            tf.config.experimental.reset_memory_stats(self.device)
            before = tf.config.experimental.get_memory_info(self.device)["current"]
            fn()
            return max(0, tf.config.experimental.get_memory_info(self.device)["peak"] - before)
        if self.source == "rss":
            _return_free_heap()
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = self._status("VmRSS")
            fn()
            return max(0, self._status("VmHWM") - before)
        import resource
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        fn()
        return max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before)
