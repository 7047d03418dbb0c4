"""What the console scripts share: `run` starts an absl main so that `--help` and `--helpshort` show the
command's own docstring (its examples) and flags, also when it is started as an installed console script; the
help flags exit with status 0.

absl prints the docstring of `__main__` and the flags of the module named by sys.argv[0]; a console script's
`__main__` is pip's generated wrapper, which has neither, so `jare-train --help` would print four lines. `run`
gives the wrapper the command module's docstring and declares the module's flags key flags of the wrapper.

absl's help flags (--help, --helpshort, --helpfull, --helpxml) print the help and exit with status 1, which stops
`jare-train --help && …` and `set -e` scripts; `run` replaces them with the same flags ending in status 0.
"""

import sys
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


def run(main: Callable, module_name: str) -> None:
    module = sys.modules[module_name]
    wrapper = sys.modules["__main__"]
    if wrapper is not module:
        if not wrapper.__doc__:
            wrapper.__doc__ = module.__doc__
        for flag in flags.FLAGS.get_flags_for_module(module_name):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    _define_help_flags()
    app.run(main)
