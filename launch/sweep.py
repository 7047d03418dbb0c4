#!/usr/bin/env python3
"""Expand methods × settings × seeds into jare-train commands, and print them (default) or run them one after
the other. Each run gets its own workdir, <root>/<setting>/<method>/seed<seed>, so a sweep started again resumes
its unfinished runs from their checkpoints, and its finished runs end at once.

    python launch/sweep.py --settings=A,B,C --methods=gan,conopt,jare --seeds=1,2,3 --root=runs/fig3
    python launch/sweep.py --settings=C --methods=jare,sngan --seeds=1 --root=runs/c --run -- --fake_data
    python launch/sweep.py ... --launcher=launch/multi_gpu.sh     # each run on all GPUs of this machine

--launcher takes a script called as `LAUNCHER SETTING METHOD WORKDIR [flags...]`: launch/local.sh and
launch/multi_gpu.sh (multi_worker.sh and tpu_pod.sh take other arguments and are started per cluster).
Arguments after `--` are passed to every run.
"""

import argparse
import itertools
import os
import shlex
import shutil
import subprocess
import sys


def commands(settings, methods, seeds, root, extra, launcher=None):
    """One command (a list of arguments) per (setting, method, seed)."""
    for setting, method, seed in itertools.product(settings, methods, seeds):
        workdir = f"{root}/{setting}/{method}/seed{seed}"
        if launcher:
            yield [launcher, setting, method, workdir, f"--seed={seed}", *extra]
        else:
            yield ["jare-train", f"--setting={setting}", f"--method={method}", f"--seed={seed}",
                   f"--workdir={workdir}", *extra]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", required=True, help="comma-separated, e.g. A,B,C")
    parser.add_argument("--methods", required=True, help="comma-separated, e.g. gan,conopt,jare")
    parser.add_argument("--seeds", default="125", help="comma-separated integers")
    parser.add_argument("--root", required=True, help="parent folder of the runs' workdirs")
    parser.add_argument("--launcher", default=None,
                        help="a script called as LAUNCHER SETTING METHOD WORKDIR [flags] (local.sh, multi_gpu.sh)")
    parser.add_argument("--run", action="store_true", help="run the commands instead of printing them")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    if args.launcher and not shutil.which(args.launcher):
        parser.error(f"--launcher={args.launcher} is not an executable file or command (launch/local.sh, "
                     f"launch/multi_gpu.sh)")
    if args.launcher and os.path.basename(args.launcher) in ("multi_worker.sh", "tpu_pod.sh"):
        parser.error(f"--launcher={args.launcher} takes cluster arguments; start those runs per cluster")
    split = [[x for x in value.split(",") if x] for value in (args.settings, args.methods)]
    if not all(split):
        parser.error("--settings and --methods need at least one name each")
    from jare_tf.configs import ALIASES, SETTINGS
    from jare_tf.methods import names
    unknown = [s for s in split[0] if s not in ALIASES and s not in SETTINGS]
    if unknown:
        parser.error(f"--settings: unknown {', '.join(unknown)}; valid: {', '.join([*ALIASES, *SETTINGS])}")
    unknown = [m for m in split[1] if m not in names()]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; valid: {', '.join(names())}")
    failed = 0
    for command in commands(*split, seeds, args.root, extra, args.launcher):
        print(shlex.join(command), flush=True)
        if args.run:
            failed += subprocess.run(command).returncode != 0
    if failed:
        print(f"{failed} run(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
