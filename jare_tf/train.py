r"""jare-train: train one method on one setting.

    jare-train --setting=isotropic --method=jare --workdir=/tmp/iso_jare
    jare-train --setting=C --method=jare --fake_data --num_steps=50 --batch_size=16 --workdir=/tmp/C_jare
    jare-train --setting=A --method=sngan --data_dir=gs://bucket/tfds --workdir=gs://bucket/runs/A_sngan
    jare-train --setting=dirac --method=r1 --config.method.options.r1.gamma=1 --workdir=/tmp/dirac_r1
    jare-train --setting=mog --method=conopt --num_steps=20000 --workdir=/tmp/mog_conopt
    jare-train --setting=C --method=jare --strategy=mirrored --workdir=/tmp/C_jare        # every local GPU
    jare-train --setting=C --method=jare --fake_data --strategy=mirrored --num_cpu_devices=2 --num_steps=3 \
        --batch_size=8 --workdir=/tmp/C_jare_2cpu                                        # 2 replicas on a CPU

--setting picks configs/<setting>.py, whose values are the defaults; any single value can be overridden with
--config.<path>=<value> (ml_collections config flags); --num_steps, --seed, --batch_size (global), --data_dir,
--fake_data and --checkpoint_every are shortcuts for the config values of the same names. The resolved config
is written to <workdir>/config.json, TensorBoard events to <workdir>/train and the final metrics to
<workdir>/metrics.json; toy runs add <workdir>/history.json, image runs keep checkpoints in
<workdir>/checkpoints and resume from the latest when the same command runs again.

Image runs scale out with --strategy (default | mirrored | multi_worker | tpu; see
jare_tf/training/distribute.py and launch/): --batch_size stays the global batch, and every loss and every
second-order regulariser is that of the global batch.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags, logging  # noqa: E402

from jare_tf import cli  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from jare_tf import config_checks, methods, settings  # noqa: E402
from jare_tf.configs import ALIASES, SETTINGS, TOY_SETTINGS  # noqa: E402

flags.DEFINE_string("setting", "isotropic", f"Setting (config file under configs/): {', '.join(ALIASES)}, "
                    f"{', '.join(SETTINGS)}.")
flags.DEFINE_string("method", "jare", "Update rule: " + ", ".join(methods.names()) + ".")
flags.DEFINE_string("workdir", None, "Output folder (TensorBoard events, config.json, metrics.json).")
flags.DEFINE_integer("num_steps", None, "Shortcut for --config.num_steps.")
flags.DEFINE_integer("seed", None, "Shortcut for --config.seed.")
flags.DEFINE_integer("batch_size", None, "Global batch size; shortcut for --config.batch_size.")
flags.DEFINE_string("data_dir", None, "Image settings: TFDS data_dir (local or gs://); --config.data_dir.")
flags.DEFINE_bool("fake_data", None, "Image settings: deterministic random images; --config.fake_data.")
flags.DEFINE_integer("checkpoint_every", None, "Image settings: steps between checkpoints; "
                     "--config.checkpoint_every.")
flags.DEFINE_bool("overwrite", False, "Start a new run in a workdir whose saved config differs, or whose "
                  "checkpoints cannot be read at all (they are moved aside to checkpoints.overwritten.N).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"],
                  "Image settings: tf.distribute strategy (multi_worker reads TF_CONFIG).")
flags.DEFINE_string("tpu", "", "--strategy=tpu: the TPU's name or grpc:// address (empty: this TPU VM's own).")
flags.DEFINE_integer("num_cpu_devices", 1, "Split the CPU into this many logical devices (with "
                     "--strategy=mirrored: data-parallel training without accelerators, e.g. for tests).")
FLAGS = flags.FLAGS
#: Flags that are shortcuts for --config.<name>.
SHORTCUTS = ("num_steps", "seed", "batch_size", "data_dir", "fake_data", "checkpoint_every")


def _flag_from_argv(argv, name: str) -> str:
    """A flag's value before absl parses the flags: --setting picks the config the overrides apply to. The last
    one given counts, as for absl."""
    value = FLAGS[name].default
    for i, arg in enumerate(argv):
        if arg.startswith((f"--{name}=", f"-{name}=")):
            value = arg.split("=", 1)[1]
        elif arg in (f"--{name}", f"-{name}") and i + 1 < len(argv):
            value = argv[i + 1]
    return value


def main(argv):
    logging.set_verbosity(logging.WARNING)    # keep the progress output readable (checkpoint INFO lines)
    if len(argv) > 1:
        print(f"jare-train: error: unexpected arguments {argv[1:]}", file=sys.stderr)
        return 2
    if not FLAGS.workdir:
        print("jare-train: error: --workdir is required (the folder for events, config.json and metrics.json).",
              file=sys.stderr)
        return 2
    # Names and paths are checked before TensorFlow is imported (seconds of CPU, a minute on a busy machine).
    if FLAGS.method not in methods.names():
        print(f"jare-train: error: unknown --method={FLAGS.method!r}"
              f"{config_checks.did_you_mean(FLAGS.method, methods.names())}; valid methods: "
              f"{', '.join(methods.names())}.", file=sys.stderr)
        return 2
    problem = config_checks.workdir_problem(FLAGS.workdir)
    if problem:
        print(f"jare-train: error: {problem}", file=sys.stderr)
        return 2
    config = FLAGS.config
    for name in SHORTCUTS:
        if FLAGS[name].value is not None:
            if name not in config:
                print(f"jare-train: error: --{name} does not apply to --setting={FLAGS.setting}.", file=sys.stderr)
                return 2
            config[name] = FLAGS[name].value
    if str(config.get("dataset", "")).startswith("folder:") and "://" not in config.dataset \
            and config.dataset != "folder:":
        # The run (config.json, jare-eval) names the folder by its absolute path, wherever it is started from.
        config.dataset = "folder:" + os.path.abspath(os.path.expanduser(config.dataset[len("folder:"):]))
    try:
        config_checks.check(config.to_dict(), [n for n in SHORTCUTS if FLAGS[n].value is not None])
        config_checks.check_names(config.to_dict(), FLAGS.method, config.setting in TOY_SETTINGS)
        problem = config_checks.data_problem(config.get("dataset", ""))
        if problem:
            raise ValueError(problem)
        if FLAGS.strategy == "mirrored" and "batch_size" in config:   # the flag as typed (the shortcut wins)
            as_config = FLAGS.batch_size is None and any(
                a.split("=", 1)[0] in ("--config.batch_size", "-config.batch_size") for a in sys.argv)
            config_checks.check_replicas(config.batch_size, FLAGS.num_cpu_devices,
                                         "--config.batch_size" if as_config else "--batch_size")
        if config.setting in TOY_SETTINGS and (FLAGS.strategy != "default" or FLAGS.num_cpu_devices != 1
                                               or FLAGS.tpu):
            raise ValueError(f"--setting={FLAGS.setting} is a toy setting and runs on one device; "
                             f"--strategy, --tpu and --num_cpu_devices apply to the image settings.")
    except ValueError as e:
        print(f"jare-train: error: {e}", file=sys.stderr)
        return 2
    warning = settings.unregularised_warning(config, FLAGS.method)
    if warning:
        print(f"jare-train: warning: {warning}", file=sys.stderr)
    from jare_tf.training.workdir import DiskFull, NonFiniteError, Preempted
    from jare_tf.training.workdir_lock import WorkdirBusy
    try:
        if config.get("spectrum_operator", "field") == "optimizer" and config.get("spectrum_every", 0):
            from jare_tf.analysis import optimizer_step     # a multi-stage method is refused before training
            optimizer_step.check_method(settings.make_method(config, FLAGS.method),
                                        "--config.spectrum_operator=optimizer")
        if config.setting in TOY_SETTINGS:
            from jare_tf.training.toy_trainer import ToyRun
            result = ToyRun(config, FLAGS.method).train(FLAGS.workdir, overwrite=FLAGS.overwrite)
        else:
            from jare_tf.training import distribute
            from jare_tf.training.image_trainer import ImageRun
            strategy = distribute.make_strategy(FLAGS.strategy, FLAGS.tpu, FLAGS.num_cpu_devices)
            result = ImageRun(config, FLAGS.method, strategy).train(FLAGS.workdir, overwrite=FLAGS.overwrite)
    except ValueError as e:
        print(f"jare-train: error: {e}", file=sys.stderr)
        return 2
    except WorkdirBusy as e:
        print(f"jare-train: error: {e}", file=sys.stderr)
        return 2
    except PermissionError as e:
        print(f"jare-train: error: cannot write {e.filename or FLAGS.workdir} ({e.strerror}); pass a --workdir "
              f"you can write to.", file=sys.stderr)
        return 2
    except (NonFiniteError, DiskFull) as e:
        print(f"jare-train: {e}", file=sys.stderr)
        return 1
    except Preempted as e:
        print(f"jare-train: {e}", file=sys.stderr)
        return 143
    done = ("Already finished: the saved results are returned, nothing was trained." if result["already_finished"]
            else f"Done in {result['seconds']:.1f} s.")
    print(f"{done} Metrics: {os.path.join(FLAGS.workdir, 'metrics.json')}; TensorBoard: tensorboard --logdir "
          f"{FLAGS.workdir}")
    return 0


def check_option_flags(argv, method: str) -> None:
    """A method option given as a flag of its own (`--gamma=5`, as jare-spectrum takes it) is refused with the
    key that sets it here; absl would refuse it as an unknown flag, with no hint."""
    options = {option for names in config_checks.METHOD_OPTIONS.values() for option in names}
    for arg in argv[1:]:
        if arg == "--":
            break
        name, given, value = arg.lstrip("-").partition("=")
        if not arg.startswith("-") or name not in options or name in FLAGS:
            continue
        takes = config_checks.METHOD_OPTIONS.get(method, ())
        here = (f"here --config.method.options.{method}.{name}={value if given else '<value>'}" if name in takes
                else f"--method={method} has no {name}; its options: {', '.join(takes) or 'none'}")
        raise ValueError(f"--{name} is not a jare-train flag: {'γ' if name == 'gamma' else name} is an option of "
                         f"each method, set with --config.method.options.<method>.{name}=<value> ({here}).")


def run():
    setting = _flag_from_argv(sys.argv, "setting")
    try:
        check_option_flags(sys.argv, _flag_from_argv(sys.argv, "method"))
        config = settings.load(setting)
        settings.add_method_options(sys.argv, config)
        settings.add_spectrum_operator(sys.argv, config)
        settings.check_overrides(sys.argv, config, _flag_from_argv(sys.argv, "method"))
        for warning in settings.other_methods_options(sys.argv, _flag_from_argv(sys.argv, "method")):
            print(f"jare-train: warning: {warning}", file=sys.stderr)
    except ValueError as e:
        print(f"jare-train: error: {e}", file=sys.stderr)
        sys.exit(2)
    config_flags.DEFINE_config_dict("config", config, "The setting's config; override values with "
                                    "--config.<path>=<value>.")
    cli.show_config_defaults("config")
    cli.run(main, __name__)


if __name__ == "__main__":
    run()
