"""What the console scripts share: `run` starts an absl main so that `--help` and `--helpshort` show the
command's own docstring (its examples) and flags, also when it is started as an installed console script; the
help flags exit with status 0; and TensorFlow's native start-up lines are printed once, at TensorFlow's level.

absl prints the docstring of `__main__` and the flags of the module named by sys.argv[0]; a console script's
`__main__` is pip's generated wrapper, which has neither, so `jare-train --help` would print four lines. `run`
gives the wrapper the command module's docstring and declares the module's flags key flags of the wrapper.

absl's help flags (--help, --helpshort, --helpfull, --helpxml) print the help and exit with status 1, which stops
`jare-train --help && …` and `set -e` scripts; `run` replaces them with the same flags ending in status 0.

`import tensorflow` loads two native libraries (`_pywrap_cpu_feature_guard`, then `_pywrap_profiler_plugin`)
that each carry their own copy of TSL's start-up code and of absl's C++ logging. Each logs absl's "All log
messages before absl::InitializeLog() is called are written to STDERR" and TSL's start-up lines (oneDNN, "Could
not find cuda drivers on your machine"), so every command printed them twice; and because they are logged
before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, its level (3 in every command unless the environment sets it) did
not apply to them. `run` makes the first `import tensorflow` of the command write its file descriptor 2 through
`native_start_up_lines`, which applies TF_CPP_MIN_LOG_LEVEL to native log lines, drops repeated ones and absl's
notice, and passes every other line through unchanged.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
from typing import Callable

from absl import app, flags


def show_config_defaults(flag_name: str) -> None:
    """`--helpfull` shows a config flag's default one `--<flag>.<path>=<value>` line per leaf: absl re-wraps a
    default line by line and drops leading spaces, which turns the config's YAML into a flat list that reads
    wrongly (nested keys look like top-level ones); dotted lines survive that and are what one types to
    override a value."""
    from jare_tf.configs import dotted
    flag = flags.FLAGS[flag_name]
    flag.default_as_str = "\n" + "\n".join(f"--{flag_name}.{key}={value!r}"
                                           for key, value in sorted(dotted(flag.value.to_dict()).items()))


def _exiting_zero(help_flag: type) -> flags.Flag:
    """absl's help flag `help_flag`, whose help ends the command with status 0 instead of 1."""

    class HelpFlag(help_flag):
        def parse(self, arg):
            try:
                super().parse(arg)
            except SystemExit:         # raised only after the help was printed
                raise SystemExit(0) from None

    flag = HelpFlag()
    flag.allow_override = True         # replaces absl's flag of the same name
    return flag


def _define_help_flags() -> None:
    """absl's help flags, exiting 0 (absl defines its own once; these replace them under their names)."""
    app.define_help_flags()
    for help_flag in (app.HelpFlag, app.HelpshortFlag, app.HelpfullFlag, app.HelpXMLFlag):
        flags.DEFINE_flag(_exiting_zero(help_flag), module_name=app.__name__)


#: A line of absl's C++ logging: severity, MMDD, time, thread, source file:line] message.
_NATIVE_LINE = re.compile(r"([IWEF])\d{4} [\d:.]+\s+\d+ ([\w./-]+\.(?:cc|cpp|h)):\d+\] (.*)")
_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def native_start_up_lines(text: str, min_level: int) -> str:
    """`text` written to stderr while TensorFlow was imported, without absl's notice, without native log lines
    below `min_level` (TF_CPP_MIN_LOG_LEVEL: 1 drops INFO, 2 WARNING, 3 ERROR) and with each native message
    once; every other line is kept as it is."""
    seen, kept = set(), []
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == _ABSL_NOTICE:
            continue
        match = _NATIVE_LINE.fullmatch(line.rstrip("\r\n"))
        if match:
            severity, source, message = match.groups()
            if "IWEF".index(severity) < min_level or (severity, source, message) in seen:
                continue
            seen.add((severity, source, message))
        kept.append(line)
    return "".join(kept)


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


@contextlib.contextmanager
def _stderr_through_filter():
    """File descriptor 2 goes to a temporary file for the block; its lines, filtered, are written after it."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:                    # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.write(native_start_up_lines(captured.read().decode("utf-8", "replace"), _min_log_level()))
            sys.stderr.flush()


class _FilteredLoader(importlib.abc.Loader):
    """Runs the `tensorflow` package's import through `_stderr_through_filter`, then takes `finder` off
    sys.meta_path; the module keeps the real loader."""

    def __init__(self, loader, finder):
        self.loader, self.finder = loader, finder

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        with _stderr_through_filter():
            self.loader.exec_module(module)


class _FilteredTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with `_FilteredLoader` until it is imported (a library may look it up, as TFDS does,
    long before it imports it)."""

    def __init__(self):
        self.finding = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.finding:
            return None
        self.finding = True            # importlib.util.find_spec asks sys.meta_path, this finder included
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader, self)
        return spec


def run(main: Callable, module_name: str) -> None:
    module = sys.modules[module_name]
    wrapper = sys.modules["__main__"]
    if wrapper is not module:
        if not wrapper.__doc__:
            wrapper.__doc__ = module.__doc__
        for flag in flags.FLAGS.get_flags_for_module(module_name):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    _define_help_flags()
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _FilteredTensorFlowImport())
    app.run(main)
