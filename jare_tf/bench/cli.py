r"""jare-bench: seconds per 1K training iterations of several methods, side by side (the paper's Fig. 4).

    jare-bench --setting=C --methods=gan,sngan,conopt,jare,extrapolation --fake_data --json
    jare-bench --setting=C --methods=gan,jare,jare:hvp=forward,conopt,conopt:hvp=forward --fake_data
    jare-bench --setting=A,B,C,D,E,F --fake_data --steps=10 --steps_for=E:4,F:4 --report

Each method is built once (its setting's models, both players' optimizers and the `Updater` that training
uses), and what is timed is what training runs: `steps_per_execution` updater steps per call of one
`tf.function` (a `tf.while_loop` around the per-step function, as Keras' `fit` does; the step is XLA-compiled
with --xla, which by default follows Keras' jit_compile="auto": on with a GPU or TPU, off on a CPU-only
machine), with the method's own random inputs drawn per iteration as `GANModel.train_step` draws them. The
minibatches are made before timing (the input pipeline runs beside training and is not part of a step).
Tracing, compilation and the first call are excluded (a second call measures memory). The methods are then
timed in rounds: every round runs each method for --steps iterations, in an order rotated from round to round,
so that drift of the machine (other jobs, clock changes) hits all methods alike; the figure is the median over
--repeats rounds, and the ratio to gan is the median over rounds of the per-round ratio. gan is always timed,
as the baseline. On a shared machine a round in which other processes used more than --max_contention of the
CPUs (read from /proc/stat) is left out and run again, up to --max_rounds; when too few clean rounds remain,
all are used and the output says the figures are contended.

A method is `name` or `name:option=value:…` (options of the method's constructor, e.g. `jare:hvp=forward`,
`jare:gamma=10`); the setting's options (configs/image.py) apply first. Peak memory is the method's own
resident state (parameters, layer state, optimizer slots) plus the largest working memory of one call above
what was in use before it: TensorFlow's allocator statistics where the device keeps them
(`tf.config.experimental.get_memory_info`), otherwise the process' peak resident set size (Linux VmHWM,
reset through /proc/self/clear_refs before the call, after glibc's malloc_trim has returned the memory that earlier
calls freed, so that one method's freed buffers do not hide the next one's use); the output says which. On a CPU
TensorFlow's default allocator keeps no statistics; `TF_CPU_ALLOCATOR_USE_BFC=true` in the environment switches
the CPU to its BFC allocator, which does, and the peaks are then the allocator's, byte-exact.

--mixed_precision builds the models of first-order methods with the Keras policy mixed_bfloat16 (TPUs, recent
GPUs, CPUs with AVX512-BF16; unlike float16 it needs no loss scaling); methods with second-order terms (double
backprop: conopt, jare, gen_only, disc_only, r1, r2, wgan_gp) keep float32 throughout, since their regularisers
are only validated in float32 (reference_spec G.21). It is a benchmark option: training has no such switch.

The tables also give the GFLOP of the convolutions and matrix products one iteration runs (counted in the
traced step, after the pruning of unused work): these networks spend nearly all their time there, so the GFLOP
ratio to gan is about the least time ratio a method can reach with the same kernels.

With --json the last line of stdout is one JSON object {method: {"sec_per_1k", "ratio_to_gan",
"peak_mem_mb"}} (for several settings: {setting: {method: …}}). --report writes docs/results/speed.md (or
--report_path) with one section per command: the command, the machine, the source version (package and commit),
the date and the tables; running the same command again replaces its section (the sections are kept in
speed.json beside it). Bad input (an unknown setting or method, a bad method option, steps that do not divide)
fails with exit status 2 before any model is built.
"""

import datetime
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags  # noqa: E402

from jare_tf import cli, provenance, settings  # noqa: E402
from jare_tf.bench.parsing import (UsageError, check_methods, default_xla, load_config, parse_methods,  # noqa: E402
                                   parse_steps_for, steps_per_execution)
from jare_tf.bench.report import PUBLIC, findings, rounds_text, table, write_report  # noqa: E402
from jare_tf.bench.timing import bench_setting  # noqa: E402

FLAGS = flags.FLAGS
DEFAULT_METHODS = "gan,sngan,conopt,jare,extrapolation"

flags.DEFINE_string("setting", "C", "Image setting(s), comma-separated: A–F, celeba, imagenet.")
flags.DEFINE_string("methods", DEFAULT_METHODS, "Comma-separated methods, each `name` or "
                    "`name:option=value:…` (e.g. jare:hvp=forward). gan is always timed as the baseline.")
flags.DEFINE_bool("fake_data", False, "Deterministic random images instead of the setting's dataset (which must "
                  "otherwise be prepared in TFDS).")
flags.DEFINE_string("data_dir", None, "TFDS data_dir of the real data.")
flags.DEFINE_integer("batch_size", None, "Batch size (default: the setting's, 64 for A–F).")
flags.DEFINE_integer("steps", 10, "Timed iterations of every method in every round.")
flags.DEFINE_string("steps_for", "", "Per-setting --steps, e.g. E:4,F:4 (slower settings).")
flags.DEFINE_integer("repeats", 9, "Rounds; the figures are medians over rounds.")
flags.DEFINE_float("max_contention", 0.15, "A round in which other processes used more than this share of the "
                   "machine (Linux /proc/stat) is left out and run again, up to --max_rounds; 1 keeps every round.")
flags.DEFINE_integer("max_rounds", None, "Most rounds per setting when rounds are left out (default 3 × --repeats).")
flags.DEFINE_float("max_minutes", 10.0, "Per setting, start no new timed round after this many minutes (at least "
                   "one round runs); on a busy machine the figures then come from the rounds there are, and say so.")
flags.DEFINE_integer("steps_per_execution", None, "Iterations per call of the compiled function (default: the "
                     "setting's steps_per_execution, at most --steps; must divide --steps).")
flags.DEFINE_bool("xla", None, "Compile each iteration with XLA (tf.function(jit_compile=True)). Default: what "
                  "training does (Keras' jit_compile='auto'): on when a GPU or TPU is present, off on CPU only.")
flags.DEFINE_bool("mixed_precision", False, "mixed_bfloat16 for first-order methods; "
                  "second-order methods stay float32.")
flags.DEFINE_bool("json", False, "Print one JSON object as the last line of stdout.")
flags.DEFINE_bool("report", False, "Write the results as markdown to --report_path.")
flags.DEFINE_string("report_path", os.path.join("docs", "results", "speed.md"), "Where --report writes.")
flags.DEFINE_integer("seed", None, "Seed of the initial weights and inputs (default: the setting's).")


def main(argv):
    import absl.logging
    absl.logging.set_verbosity(absl.logging.ERROR)      # tf.function retracing notes: one function per method
    if len(argv) > 1:
        print(f"jare-bench: error: unexpected arguments {argv[1:]}", file=sys.stderr)
        return 2
    log = (lambda text: print(text, file=sys.stderr)) if FLAGS.json else print
    try:
        if FLAGS.max_minutes <= 0:
            raise UsageError(f"--max_minutes must be > 0, got {FLAGS.max_minutes}.")
        if FLAGS.steps <= 0 or FLAGS.repeats <= 0:
            raise UsageError(f"--steps and --repeats must be > 0, got {FLAGS.steps} and {FLAGS.repeats}.")
        if FLAGS.batch_size is not None and FLAGS.batch_size <= 0:
            raise UsageError(f"--batch_size must be > 0, got {FLAGS.batch_size}.")
        if FLAGS.steps_per_execution is not None and FLAGS.steps_per_execution <= 0:
            raise UsageError(f"--steps_per_execution must be > 0, got {FLAGS.steps_per_execution}.")
        if FLAGS.max_contention < 0:
            raise UsageError(f"--max_contention must be >= 0 (a share of the CPUs), got {FLAGS.max_contention}.")
        if FLAGS.report:                          # found out now, not after the whole benchmark
            folder = os.path.dirname(os.path.abspath(FLAGS.report_path))
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError:
                pass                              # refused just below
            if not (os.path.isdir(folder) and os.access(folder, os.W_OK)) or os.path.isdir(FLAGS.report_path):
                raise UsageError(f"--report_path={FLAGS.report_path} cannot be written (is {folder} writable, "
                                 f"and the path not a folder?).")
        settings_list = [s.strip() for s in FLAGS.setting.split(",") if s.strip()]
        if not settings_list:
            raise UsageError("--setting: no setting given.")
        specs = parse_methods(FLAGS.methods)
        steps_for = parse_steps_for(FLAGS.steps_for)
        unknown = set(steps_for) - set(settings_list)
        if unknown:
            raise UsageError(f"--steps_for names settings not in --setting: {', '.join(sorted(unknown))}.")
        plan = []
        for setting in settings_list:             # every input error surfaces before any model is built
            config = load_config(setting, FLAGS.batch_size, FLAGS.data_dir, FLAGS.seed)
            steps = steps_for.get(setting, FLAGS.steps)
            for label, name, options in specs:    # a lazy method's rounds must hold whole cycles
                every = options.get("every", settings.method_options(config, name).get("every", 1))
                if isinstance(every, int) and every > 0 and steps % every:
                    raise UsageError(f"--steps={steps} for setting {setting} is not a multiple of {label}'s "
                                     f"every={every}: a round would time a part of its cycle, with or without "
                                     f"the regularised iteration; use a multiple of {every}.")
            check_methods(config, specs)
            plan.append((setting, config, steps, steps_per_execution(config, steps, FLAGS.steps_per_execution)))
        xla = FLAGS.xla if FLAGS.xla is not None else default_xla()
        all_results, infos = {}, {}
        for setting, config, steps, spe in plan:
            all_results[setting], infos[setting] = bench_setting(
                config, specs, steps, FLAGS.repeats, spe, xla, FLAGS.mixed_precision, FLAGS.fake_data, log,
                setting, FLAGS.max_contention, FLAGS.max_rounds or 3 * FLAGS.repeats, FLAGS.max_minutes)
            info = infos[setting]
            print(f"\nSetting {setting}: batch {info['batch_size']}, device {info['device']}, memory: "
                  f"{info['memory']}; {rounds_text(info)}.")
            print("\n".join(table(all_results[setting])))
            for text in findings(all_results[setting]):
                print(text)
    except UsageError as e:
        print(f"jare-bench: error: {e}", file=sys.stderr)
        return 2
    if FLAGS.report:
        options = (f"xla={xla}, mixed_precision={FLAGS.mixed_precision}, fake_data={FLAGS.fake_data}, "
                   f"batch_size={FLAGS.batch_size or 'the setting’s'}")
        run = {"key": [settings_list, [s[0] for s in specs], xla, FLAGS.mixed_precision, FLAGS.batch_size],
               "command": "jare-bench " + " ".join(a for a in sys.argv[1:] if not a.startswith("--report_path")),
               "machine": provenance.machine(), "source": provenance.source_version(), "options": options,
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "results": all_results, "infos": infos}
        write_report(FLAGS.report_path, run)
        print(f"Report: {FLAGS.report_path}")
    if FLAGS.json:
        public = {s: {m: {k: r[k] for k in PUBLIC} for m, r in res.items()} for s, res in all_results.items()}
        print(json.dumps(public[settings_list[0]] if len(settings_list) == 1 else public))
    return 0


def run():
    cli.run(main, __name__)
