"""What the console scripts share: `run` starts an absl main so that `--help` and `--helpshort` show the
command's own docstring (its examples) and flags, also when it is started as an installed console script.

absl prints the docstring of `__main__` and the flags of the module named by sys.argv[0]; a console script's
`__main__` is pip's generated wrapper, which has neither, so `jare-train --help` would print four lines. `run`
gives the wrapper the command module's docstring and declares the module's flags key flags of the wrapper.
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


def run(main: Callable, module_name: str) -> None:
    module = sys.modules[module_name]
    wrapper = sys.modules["__main__"]
    if wrapper is not module:
        if not wrapper.__doc__:
            wrapper.__doc__ = module.__doc__
        for flag in flags.FLAGS.get_flags_for_module(module_name):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    app.run(main)
