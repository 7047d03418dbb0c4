"""Settings: load a setting's config (configs/<setting>.py, installed as jare_tf.configs), resolve the options
of the method that plays it, and build an image setting's Game. Importing it does not import TensorFlow, so the
command-line tools check a setting's name and overrides before that (seconds on a busy machine)."""

import ast
import importlib
import inspect
from typing import Dict, List, Optional, Tuple

import ml_collections

from jare_tf.configs import ALIASES, SETTINGS


def load(setting: str) -> ml_collections.ConfigDict:
    """The config of a setting (A–F are aliases of setting_a … setting_f)."""
    name = ALIASES.get(setting, setting)
    if name not in SETTINGS:
        raise ValueError(f"Unknown --setting={setting!r}; valid settings: {', '.join(ALIASES)}, "
                         f"{', '.join(SETTINGS)}.")
    return importlib.import_module(f"jare_tf.configs.{name}").get_config()


def run_config(config: ml_collections.ConfigDict, method: str, family: str) -> Dict[str, object]:
    """What a workdir's config.json (and every checkpoint) stores of a run: its config under the keys the
    overrides use (`--config.method.options.jare.gamma=5` is `method.options.jare.gamma`), where `method` holds
    the method trained (`method.name`, from --method) and only its options (the other methods' do not reach the
    run), `game.family` is the loss family it trained with (a method may require one, as the WGAN methods do),
    and `resolved_method_options` beside them is every option the method was built with, its defaults included."""
    stored = config.to_dict()
    options = method_options(config, method)
    stored["method"] = {"name": method, "options": {method: options}}
    stored["game"] = dict(stored["game"], family=family)
    stored["resolved_method_options"] = resolved_options(method, options)
    return stored


def upgraded(stored: Dict[str, object]) -> Dict[str, object]:
    """A stored config in run_config's shape. Workdirs and checkpoints written before it stored `method` as the
    name with its options in a top-level `method_options` and the trained loss family in a top-level `family`;
    such a config is converted (so those runs resume and are compared key by key), a current one is returned
    as it is. An image config written before `image_key` existed (issue 27) gets its default, "", which is what
    those runs trained with."""
    if "architecture" in stored and "image_key" not in stored:
        stored = dict(stored, image_key="")
    if not isinstance(stored.get("method"), str):
        return stored
    stored = dict(stored)
    method, options, family = stored.pop("method"), stored.pop("method_options", {}), stored.pop("family", None)
    stored["method"] = {"name": method, "options": {method: options}}
    if family is not None:
        stored["game"] = dict(stored.get("game", {}), family=family)
    stored["resolved_method_options"] = resolved_options(method, options)
    return stored


def from_saved(stored: Dict[str, object]) -> Tuple[ml_collections.ConfigDict, str]:
    """(config, method name) from a workdir's config.json (run_config's shape, or the earlier one)."""
    stored = dict(upgraded(stored))
    method = stored.pop("method")
    stored.pop("resolved_method_options")
    stored["method"] = {"options": method["options"]}
    return ml_collections.ConfigDict(stored), method["name"]


def image_game(config: ml_collections.ConfigDict, method, channels: Optional[int] = None):
    """The Game of an image setting for `method`: its architecture (with the spectrally normalised
    discriminator for SN-GAN, and the channel count of the setting's dataset, or `channels` when the caller has
    resolved it already) and its losses (the WGAN family for the WGAN methods)."""
    from jare_tf.data import images
    from jare_tf.games.game import Game
    from jare_tf.models import architectures
    channels = channels or images.from_config(config).channels
    if architectures.image_size(config.architecture) != config.image_size:
        raise ValueError(f"{config.architecture} makes {architectures.image_size(config.architecture)}-pixel "
                         f"images, but config.image_size is {config.image_size}.")
    g, d = architectures.build(config.architecture, config.z_dim, method.spectral_norm_discriminator,
                               config.get("sync_batch_norm", False), channels=channels)
    return Game(g, d, family=method.required_family or config.game.family,
                generator_loss=config.game.generator_loss,
                regularizer_generator_loss=config.game.regularizer_generator_loss)


def _option_value(text: str) -> object:
    """An option's value as typed on the command line: a bool, int, float or None where it reads as one, else
    the string (so the override that follows parses to the same type)."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if value is None or isinstance(value, (int, float)) else text


#: Method options that take numbers (the others, such as hvp and order, take names).
NUMERIC_OPTIONS = {"gamma", "std", "clip", "target", "epsilon", "n_d", "n_g", "num_draws", "every"}


def parse_method_label(label: str) -> Tuple[str, Dict[str, object]]:
    """`jare:every=4:hvp=forward` → ("jare", {"every": 4, "hvp": "forward"}): a method and options that differ
    from the setting's (jare-bench --methods, the Fashion-MNIST report's lazy rows). ValueError names the part."""
    from jare_tf import methods
    name, *opts = label.split(":")
    if name not in methods.names():
        raise ValueError(f"unknown method {name!r}; valid methods: {', '.join(methods.names())}.")
    options = {}
    for opt in opts:
        if "=" not in opt:
            raise ValueError(f"option {opt!r} of {name} must read option=value.")
        key, value = opt.split("=", 1)
        options[key] = _option_value(value)
        if key in NUMERIC_OPTIONS and (isinstance(options[key], bool)
                                       or not isinstance(options[key], (int, float))):
            raise ValueError(f"{name}:{opt}: {key} must be a number.")
    return name, options


def set_method_options(config: ml_collections.ConfigDict, method: str, options: Dict[str, object]) -> None:
    """config.method.options.<method>.<key> = value for each option, adding keys the setting leaves at the
    method's default (the method's constructor refuses an option it lacks, settings.make_method)."""
    node = config.method.options
    if method not in node:
        node[method] = {}
    for key, value in options.items():
        node[method][key] = value


def add_method_options(argv, config: ml_collections.ConfigDict) -> None:
    """Make room for a method option the setting leaves at the method's default.

    A setting's config lists only the options it sets (`"altgd": {}` uses altgd's own n_d, n_g and order), so
    `--config.method.options.altgd.n_d=5` would name a key that does not exist. For a known method this adds the
    key, with the typed value, before the flags are parsed; the method's constructor then accepts the option or
    refuses it by name (settings.make_method), before a run writes anything.
    """
    from jare_tf import methods
    for arg in argv:
        if not arg.startswith("--config.method.options.") or "=" not in arg:
            continue
        path, text = arg[len("--config."):].split("=", 1)
        keys = path.split(".")
        if len(keys) != 4 or keys[2] not in methods.names():
            continue
        group = config.method.options
        if keys[2] not in group:
            group[keys[2]] = ml_collections.ConfigDict()
        if keys[3] not in group[keys[2]]:
            group[keys[2]][keys[3]] = _option_value(text)


def add_spectrum_operator(argv, config: ml_collections.ConfigDict) -> None:
    """Make room for --config.spectrum_operator, which the settings' configs do not list: the spectra logged
    every spectrum_every steps are of the method's field unless it says "optimizer" (the linearised optimizer
    step, analysis/optimizer_step.py), and the trainers read it as config.get("spectrum_operator", "field"). The
    key is added, as "field", only when the flag is given, so a config.json holds it only for runs that set it;
    config_checks.check_names checks the value."""
    if any(arg.split("=", 1)[0] == "--config.spectrum_operator" for arg in argv) and \
            "spectrum_operator" not in config:
        config.spectrum_operator = "field"


def other_methods_options(argv, method: str) -> List[str]:
    """A warning for each --config.method.options.<other>.<key> beside --method=<method>: the run trains `method`
    as if it had not been given (a launch script may set several methods' options on purpose; a mistyped method
    in the path would otherwise go unnoticed)."""
    warnings = []
    for arg in argv:
        path = arg[len("--config."):].split("=", 1)[0].split(".") if arg.startswith("--config.") else []
        if len(path) > 3 and path[:2] == ["method", "options"] and path[2] != method:
            warnings.append(f"{arg.split('=', 1)[0]} sets an option of {path[2]}, but --method={method} is trained: "
                            f"it has no effect on this run (for {method}: "
                            f"--config.method.options.{method}.{'.'.join(path[3:])}).")
    return warnings


def check_overrides(argv, config: ml_collections.ConfigDict, method: str) -> None:
    """Unknown --config.<path> keys fail here with a list of the valid ones, not deep inside flag parsing; the
    setting-wide --config.method.gamma that does not exist is refused with the key that does."""
    for arg in argv:
        if not arg.startswith("--config."):
            continue
        path = arg[len("--config."):].split("=", 1)[0].split(".")
        if path[:2] == ["method", "gamma"]:
            raise ValueError(f"--config.method.gamma does not exist: γ is an option of each method, set with "
                             f"--config.method.options.<method>.gamma=<value> (here "
                             f"--config.method.options.{method}.gamma).")
        node = config
        for i, key in enumerate(path):
            if not hasattr(node, "keys") or key not in node:
                where = "config" if i == 0 else "config." + ".".join(path[:i])
                valid = (", ".join(sorted(node.keys())) or "none") if hasattr(node, "keys") else "(not a group)"
                raise ValueError(f"Unknown override --config.{'.'.join(path)}: {where} has no {key!r}; "
                                 f"valid keys there: {valid}.")
            node = node[key]


def method_options(config: ml_collections.ConfigDict, method: str) -> Dict[str, object]:
    """The setting's options of `method` (config.method.options.<method>: γ and the others), the one place they
    live; a method the setting lists no options for gets its own defaults."""
    per_method = config.method.options.get(method)
    return dict(per_method) if per_method is not None else {}


def option_names(method: str) -> Tuple[List[str], bool]:
    """The options `method`'s constructor takes (γ only if the method uses it), and whether it takes any others
    (**kwargs). jare-train, jare-bench and jare-spectrum refuse the others by name with this list."""
    from jare_tf import methods
    cls = methods.method_class(method)    # an unknown method is reported as such
    parameters = inspect.signature(cls.__init__).parameters
    accepted = [p for p in parameters if p != "self" and (p != "gamma" or cls.uses_gamma)
                and parameters[p].kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)]
    return accepted, any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def resolved_options(method: str, given: Dict[str, object]) -> Dict[str, object]:
    """Every option `method` is built with from the options `given`: theirs, and its constructor's defaults for
    the others."""
    from jare_tf import methods
    parameters = inspect.signature(methods.method_class(method).__init__).parameters
    resolved = {name: parameters[name].default for name in option_names(method)[0]
                if parameters[name].default is not inspect.Parameter.empty}
    return dict(resolved, **given)


def unknown_options(method: str, given) -> Tuple[List[str], List[str]]:
    """(the given option names `method` does not take, the ones it takes)."""
    accepted, any_other = option_names(method)
    return ([] if any_other else sorted(set(given) - set(accepted))), accepted


def unregularised_warning(config: ml_collections.ConfigDict, method: str) -> Optional[str]:
    """A warning when a method that uses γ runs with γ = 0 (e.g. the setting lists none for it and the method's
    default is 0): it then trains without its regulariser, which the run's name would not say."""
    from jare_tf import methods
    cls = methods.method_class(method)
    if not cls.uses_gamma:
        return None
    default = inspect.signature(cls.__init__).parameters.get("gamma")
    gamma = method_options(config, method).get("gamma", default.default if default is not None else None)
    if gamma is None or gamma != 0:
        return None
    return (f"--method={method} runs with γ = 0 on setting {config.get('setting', '?')}, i.e. without its "
            f"regulariser (its plain first-order updates); set --config.method.options.{method}.gamma=<value> "
            f"unless that is meant.")


def make_method(config: ml_collections.ConfigDict, method: str):
    """The Method `method` with the setting's options; a bad option value names the flag that sets it."""
    from jare_tf import methods
    options = method_options(config, method)
    unknown, accepted = unknown_options(method, options)
    if unknown:
        raise ValueError(f"--method={method} has no option {', '.join(unknown)} "
                         f"(--config.method.options.{method}.{unknown[0]}); its options: "
                         f"{', '.join(accepted) or 'none'}.")
    try:
        return methods.get(method, **options)
    except (ValueError, TypeError) as e:
        raise ValueError(f"--method={method}: {e} The options come from --config.method.options.{method}.<option> "
                         f"(this run's: {options or 'none'}).") from None
