"""jare-bench's input: the --methods and --steps_for syntax, the setting's config and the checks that every
method builds, all before any model is built; bad input is a UsageError (one line, exit status 2)."""

from typing import Dict, List, Optional, Tuple

#: The baseline every ratio is taken to; always timed.
BASELINE = "gan"


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit status 2."""


# ----------------------------------------------------------------------------------------------------------
# Parsing.
# ----------------------------------------------------------------------------------------------------------


def parse_methods(text: str) -> List[Tuple[str, str, Dict[str, object]]]:
    """`gan,jare:hvp=forward` → [(label, name, options)], gan first (added when missing)."""
    from jare_tf import settings
    specs, seen = [], set()
    for label in [s.strip() for s in text.split(",") if s.strip()]:
        try:
            name, options = settings.parse_method_label(label)
        except ValueError as e:
            raise UsageError(f"--methods: {e}") from None
        if label in seen:
            raise UsageError(f"--methods: {label!r} is listed twice.")
        seen.add(label)
        specs.append((label, name, options))
    if not specs:
        raise UsageError("--methods: no method given.")
    if BASELINE not in seen:
        specs.insert(0, (BASELINE, BASELINE, {}))
    return specs


def parse_steps_for(text: str) -> Dict[str, int]:
    out = {}
    for item in [s.strip() for s in text.split(",") if s.strip()]:
        setting, _, n = item.partition(":")
        try:
            out[setting] = int(n)
        except ValueError:
            raise UsageError(f"--steps_for: {item!r} must read SETTING:STEPS.") from None
        if out[setting] <= 0:
            raise UsageError(f"--steps_for: steps must be > 0 in {item!r}.")
    return out


def load_config(setting: str, batch_size: Optional[int], data_dir: Optional[str], seed: Optional[int]):
    from jare_tf import settings
    from jare_tf.configs import TOY_SETTINGS
    try:
        config = settings.load(setting)
    except ValueError as e:
        raise UsageError(f"--setting: {e}") from None
    if config.setting in TOY_SETTINGS:
        raise UsageError(f"--setting={setting} is a toy setting; jare-bench times the image settings "
                         f"(A–F, celeba, imagenet).")
    if batch_size is not None:
        config.batch_size = batch_size
    if data_dir is not None:
        config.data_dir = data_dir
    if seed is not None:
        config.seed = seed
    return config


def check_methods(config, specs) -> None:
    """Every method builds with its options (before any model is built)."""
    from jare_tf import methods, settings
    for label, name, options in specs:
        unknown, accepted = settings.unknown_options(name, options)
        if unknown:
            raise UsageError(f"--methods: {label}: {name} has no option {', '.join(unknown)}; its options: "
                             f"{', '.join(accepted) or 'none'}.")
        try:
            methods.get(name, **dict(settings.method_options(config, name), **options))
        except (TypeError, ValueError) as e:
            raise UsageError(f"--methods: {label}: {e}") from None


def default_xla() -> bool:
    """Keras' jit_compile="auto" for the model training compiles (one strategy, one device): XLA when the
    machine has an accelerator, not on a CPU-only machine."""
    import tensorflow as tf
    return any(d.device_type != "CPU" for d in tf.config.list_physical_devices())


def steps_per_execution(config, steps: int, spe_flag: Optional[int]) -> int:
    spe = min(spe_flag or config.steps_per_execution, steps)
    if steps % spe:
        raise UsageError(f"--steps={steps} must be a multiple of --steps_per_execution={spe} "
                         f"(setting {config.setting}).")
    return spe
