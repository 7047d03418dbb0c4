"""Where a result was made: the machine and the source version that report headers and benchmark records name."""

import hashlib
import os
import platform
import subprocess

#: The source that computes a run's trajectory: the configs, the game, the update rules, the players, the data,
#: and the step (GANModel, the Updater, the optimizers, the replica reductions). A stored result records the
#: sha256 of these files (`training_code_sha256`), so results made by other numerics are never mixed silently.
#: Outside it: the orchestration around the step (image_trainer.py's loop, checkpoints, summaries; resume is
#: tested to be exact), flag parsing (settings.py: the resolved config is stored with each result instead),
#: scoring (each score carries its classifier's sha256) and the reports. One caveat, kept on purpose so that
#: reliability work on the trainer does not void stored results: image_trainer.py also assembles each step's
#: minibatches (`with_method_inputs`, `ImageRun.global_batches`) from the data/ functions and the method's own
#: sample_inputs, with fixed seed offsets; a change there that moves trajectories must be made in a TRAINING_CODE
#: file instead (or come with a new protocol).
TRAINING_CODE = ("configs", "jare_tf/games", "jare_tf/methods", "jare_tf/models", "jare_tf/data",
                 "jare_tf/training/gan_model.py", "jare_tf/training/updater.py", "jare_tf/training/optimizers.py",
                 "jare_tf/training/distribute.py")


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


def _package_files():
    """{"jare_tf/…py" or "configs/…py": path} of the installed package (editable or wheel alike)."""
    import jare_tf
    import jare_tf.configs
    files = {}
    for prefix, root in (("jare_tf", os.path.dirname(jare_tf.__file__)),
                         ("configs", os.path.dirname(jare_tf.configs.__file__))):
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (prefix == "jare_tf" and d == "configs"))
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    files[f"{prefix}/{os.path.relpath(path, root)}".replace(os.sep, "/")] = path
    return files


def training_code_sha256() -> str:
    """sha256 over the names and bytes of the TRAINING_CODE files, in sorted order."""
    digest = hashlib.sha256()
    for name, path in sorted(_package_files().items()):
        if any(name == entry or name.startswith(entry + "/") for entry in TRAINING_CODE):
            with open(path, "rb") as f:
                content = f.read()
            digest.update(f"{name}\0{len(content)}\0".encode())
            digest.update(content)
    return digest.hexdigest()
