"""Where a result was made: the machine and the source version that report headers and benchmark records name."""

import os
import platform
import subprocess


def machine() -> str:
    """CPU model and count, the GPU if any, Python, TensorFlow and the platform."""
    import tensorflow as tf
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    text = f"{cpu} ({os.cpu_count()} CPU cores visible)"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        text += f", GPU {details.get('device_name', gpus[0].name)}"
    return f"{text}; Python {platform.python_version()}, TensorFlow {tf.__version__}; {platform.platform()}"


def source_version() -> str:
    """The package version and the commit (and whether the tree had changes) that produce a report."""
    from importlib import metadata
    try:
        version = metadata.version("jare_tf")
    except metadata.PackageNotFoundError:
        version = "unknown"
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        # The reports under docs/results are what the commands write, not source: a report being regenerated
        # (or another one just written) does not make the code that writes it "uncommitted".
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":/",
                                ":(exclude,top)docs/results"], cwd=here, capture_output=True, text=True,
                               check=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "not a git checkout"
    return f"jare_tf {version}, commit {commit}"
