"""Every number of a run's config checked before anything is built: finite where it must be, positive where it
must be, whole where it must be, with the flag that sets it in the message (the shortcut the user typed, such
as --num_steps, or --config.<path>); and the names a config holds (its dataset, the options of the method that
plays it, a method the setting cannot run), each refused with the flag and the closest valid names. The same
holds for a --workdir that cannot be a folder and a global batch that does not divide over the replicas asked
for. Needs no TensorFlow, so a bad value costs a tenth of a second."""

import difflib
import math
import os
from typing import Dict, Iterable, Sequence

from jare_tf.configs import dotted

#: Leaves (by their last key) that must be > 0, and those that must be >= 0 (0 switches the thing off).
POSITIVE = {"batch_size", "checkpoint_every", "keep_checkpoints", "log_every", "steps_per_execution", "z_dim",
            "learning_rate", "eval_samples", "sigma2", "std", "latent_variance", "radius", "num_modes", "dim",
            "latent_dim", "num_draws", "n_d", "image_size", "epsilon", "clip", "spectrum_k", "every"}
NON_NEGATIVE = {"num_steps", "gamma", "image_every", "sample_every", "spectrum_every", "seed", "beta_1", "beta_2",
                "target"}
#: Adam's β₁, β₂ lie in [0, 1).
BELOW_ONE = {"beta_1", "beta_2"}
#: Keras counts steps, and TensorFlow many shapes, in 32-bit integers: larger values cannot be trained.
MAX_STEPS = 2 ** 31 - 1

#: The datasets --config.dataset names: the keys of jare_tf.data.images.DATASETS, which imports TensorFlow
#: (tests/test_errors_before_tensorflow.py keeps the two equal).
DATASETS = ("cifar10", "celeb_a", "imagenet2012", "fashion_mnist")
#: The options each built-in method's constructor takes: settings.option_names, which imports every method and
#: so TensorFlow (tests/test_errors_before_tensorflow.py keeps the two equal).
METHOD_OPTIONS = {
    "altgd": ("n_d", "n_g", "order", "g_beta1"),
    "conopt": ("gamma", "hvp", "every"),
    "disc_only": ("gamma", "hvp", "every"),
    "extrapolation": ("gamma",),
    "gan": (),
    "gen_only": ("gamma", "hvp", "every"),
    "instance_noise": ("std", "num_draws"),
    "jare": ("gamma", "hvp", "every"),
    "r1": ("gamma", "every"),
    "r2": ("gamma", "every"),
    "sngan": (),
    "wgan": ("clip", "n_d"),
    "wgan_gp": ("gamma", "target", "epsilon", "n_d", "every"),
}
#: Methods whose discriminator is spectrally normalised, which only the image settings' architectures provide.
IMAGE_ONLY_METHODS = ("sngan",)
#: What the logged spectra analyse (--config.spectrum_operator): analysis/optimizer_step.OPERATORS, which imports
#: TensorFlow (tests/analysis/test_optimizer_step.py keeps the two equal).
SPECTRUM_OPERATORS = ("field", "optimizer")
#: --config.jit_compile of the image settings: Keras' "auto" (XLA on with a GPU or TPU), or on or off.
JIT_COMPILE = {"auto": "auto", "true": True, "false": False}


def _number(flag: str, v: object, positive: bool, non_negative: bool) -> bool:
    """Check one value (ValueError naming `flag`); False when it is not a number (nothing to check)."""
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{flag}={v}: must be a finite number.")
    if positive and not v > 0:
        raise ValueError(f"{flag}={v}: must be > 0.")
    if non_negative and not v >= 0:
        raise ValueError(f"{flag}={v}: must be >= 0.")
    return True


def check_flags(values: Dict[str, object], positive: Iterable[str] = (), non_negative: Iterable[str] = ()) -> None:
    """A command's own numeric flags ({name: value}, None for unset): finite, and > 0 or >= 0 where named."""
    for name, v in values.items():
        _number(f"--{name}", v, name in set(positive), name in set(non_negative))


def _flag(path: str, shortcuts: Iterable[str]) -> str:
    return f"--{path}" if path in shortcuts else f"--config.{path}"


def check(config_dict: Dict, shortcuts: Iterable[str] = ()) -> None:
    """Raise ValueError naming the first bad value; `shortcuts` are the top-level keys given by a shortcut flag."""
    shortcuts = set(shortcuts)
    for path, value in sorted(dotted(config_dict).items()):
        key = path.split(".")[-1]
        values = value if isinstance(value, list) else [value]
        for v in values:
            flag = _flag(path, shortcuts)
            if not _number(flag, v, key in POSITIVE, key in NON_NEGATIVE):
                continue
            if key in BELOW_ONE and not v < 1:
                raise ValueError(f"{flag}={v}: Adam's {key} must lie in [0, 1).")
            if key in ("num_steps", "checkpoint_every", "log_every", "batch_size") and v > MAX_STEPS:
                raise ValueError(f"{flag}={v}: must be at most {MAX_STEPS} (TensorFlow counts steps and "
                                 f"shapes in 32-bit integers here).")


def check_replicas(batch_size: int, replicas: int, flag: str) -> None:
    """The global batch (set by `flag`, as typed) must divide evenly over `replicas` (> 1: --num_cpu_devices
    under --strategy=mirrored, known before TensorFlow starts; GPUs and workers are counted by the trainer)."""
    if replicas > 1 and isinstance(batch_size, int) and batch_size % replicas:
        raise ValueError(f"{flag}={batch_size} is the global batch and must divide evenly over the {replicas} "
                         f"replicas of --num_cpu_devices={replicas}; use a multiple of {replicas}.")


def workdir_problem(workdir: str) -> str:
    """What keeps a local --workdir from being a folder, found before anything is created ("" when nothing
    does): it is a file, a symbolic link to nothing, inside a file, or has a name longer than its file system
    allows (the OS's "File name too long")."""
    if "://" in workdir:
        return ""
    flag = f"--workdir={workdir}"
    parts = os.path.abspath(workdir).split(os.sep)
    existing = os.sep
    for i in range(2, len(parts) + 1):
        here = os.sep.join(parts[:i])
        if not os.path.lexists(here):
            break                              # from here on every folder is created
        if os.path.islink(here) and not os.path.exists(here):
            link = "is a symbolic link" if i == len(parts) else f"lies under {here}, a symbolic link"
            return (f"{flag} {link} to {os.readlink(here)}, which does not exist; create that folder or pass "
                    f"another --workdir.")
        if not os.path.isdir(here):
            if i == len(parts):
                return f"{flag} is a file; pass a folder (it is created when missing)."
            return f"{flag} lies under {here}, which is a file; pass a folder."
        existing = here
    try:
        name_max, path_max = os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    long = next((name for name in parts if len(name.encode("utf-8", "surrogateescape")) > name_max), None)
    if long is not None:
        return (f"{flag}: the name {long[:24]}… is {len(long.encode('utf-8', 'surrogateescape'))} bytes long, "
                f"more than the {name_max} its file system allows (File name too long); pass a shorter path.")
    if len(os.path.abspath(workdir).encode("utf-8", "surrogateescape")) >= path_max:
        return f"{flag} is longer than the {path_max - 1} bytes a path may have here; pass a shorter path."
    return ""


def data_problem(dataset: str) -> str:
    """What keeps a local folder:<path> dataset from being read, found before anything is created ("" when nothing
    does, and for every other dataset): it is missing, a file, or holds no PNG/JPEG file (own_data.problem)."""
    from jare_tf.data import own_data
    return own_data.problem(dataset) if own_data.is_own(dataset) else ""


def did_you_mean(word: str, valid: Sequence[str]) -> str:
    """" (did you mean 'x'?)" with the valid names closest to a mistyped `word`; empty when none is close."""
    close = difflib.get_close_matches(word, list(valid), n=2)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def positional_problem(argv: Sequence[str], valid: Sequence[str], noun: str, verb: str) -> str:
    """What is wrong with a command's one positional argument (argv[1], one of `valid`), or "" when nothing is:
    e.g. "unknown report 'toyy' (did you mean 'toy'?)"."""
    if len(argv) == 1:
        return f"name the {noun} to {verb}"
    if len(argv) > 2:
        return f"unexpected arguments {list(argv[2:])} (one {noun} at a time)"
    if argv[1] not in valid:
        return f"unknown {noun} {argv[1]!r}{did_you_mean(argv[1], valid)}"
    return ""


def check_names(config_dict: Dict, method: str, toy: bool) -> None:
    """Raise ValueError naming the flag when the config's dataset or spectrum_operator is unknown (your own data:
    a malformed tfds: or folder: name; `data_problem` looks at the folder), when it gives
    `method` an option the method does not take (a built-in method's; others are checked when the method is
    built), or when `method` needs an image architecture and the setting is a toy one (`toy`)."""
    dataset = config_dict.get("dataset")
    from jare_tf.data import own_data       # TensorFlow-free: the tfds:/folder: names (docs/own_data.md)
    if dataset is not None and own_data.is_own(dataset):
        own_data.parse(dataset)
    elif dataset is not None and dataset not in DATASETS:
        raise ValueError(f"Unknown --config.dataset={dataset!r}{did_you_mean(str(dataset), DATASETS)}; valid "
                         f"datasets: {', '.join(DATASETS)}, or your own: tfds:<name>[/<config>][:<split>] (any TFDS "
                         f"image dataset), folder:<path> (PNG/JPEG files).")
    if config_dict.get("image_key") and not str(dataset).startswith(own_data.TFDS_PREFIX):
        raise ValueError(f"--config.image_key={config_dict['image_key']} names a TFDS image feature; it applies to "
                         f"--config.dataset=tfds:<name> only (here {dataset}): leave it empty.")
    operator = config_dict.get("spectrum_operator", "field")
    if operator not in SPECTRUM_OPERATORS:
        raise ValueError(f"Unknown --config.spectrum_operator={operator!r}"
                         f"{did_you_mean(str(operator), SPECTRUM_OPERATORS)}; the logged spectra are of the "
                         f"method's field or of the linearised optimizer step: {', '.join(SPECTRUM_OPERATORS)}.")
    jit = config_dict.get("jit_compile", "auto")
    if jit not in JIT_COMPILE:
        raise ValueError(f"Unknown --config.jit_compile={jit!r}{did_you_mean(str(jit), JIT_COMPILE)}; choose auto "
                         f"(XLA with a GPU or TPU, Keras' rule), true or false.")
    accepted = METHOD_OPTIONS.get(method)
    given = config_dict.get("method", {}).get("options", {}).get(method) or {}
    for key in sorted(given) if accepted is not None else ():
        if key not in accepted:
            raise ValueError(f"--config.method.options.{method}.{key}: --method={method} has no option {key!r}"
                             f"{did_you_mean(key, accepted)}; its options: {', '.join(accepted) or 'none'}.")
    if toy and method in IMAGE_ONLY_METHODS:
        raise ValueError(f"--method={method} needs a spectrally normalised discriminator, which only the image "
                         f"settings' architectures have; on --setting={config_dict.get('setting')} train another "
                         f"method, or {method} on an image setting (A–F).")
