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
--report_path) with one section per command: the command, the machine, the date and the tables; running the
same command again replaces its section (the sections are kept in speed.json beside it). Bad input (an unknown
setting or method, a bad method option, steps that do not divide) fails with exit status 2 before any model
is built.
"""

import ast
import datetime
import gc
import json
import os
import statistics
import sys
import time
from typing import Dict, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags  # noqa: E402

from jare_tf import cli, provenance  # noqa: E402

FLAGS = flags.FLAGS
DEFAULT_METHODS = "gan,sngan,conopt,jare,extrapolation"
#: Methods whose directions contain second-order terms; --mixed_precision leaves them in float32.
SECOND_ORDER = ("conopt", "jare", "gen_only", "disc_only", "r1", "r2", "wgan_gp")
BASELINE = "gan"


def step_flop(graph) -> int:
    """FLOP of `op_flop` over what the runtime executes of `graph`: the ops its outputs or stateful ops need,
    with function calls inlined (forward-mode JVPs live in nested functions) and each distinct computation
    (same type, attributes and inputs, after merging identical inputs) counted once, as Grappler merges them."""
    signatures: Dict[tuple, str] = {}
    total, scopes = [0], iter(range(1 << 30))

    def find(g, name):
        while g is not None:
            fn = getattr(g, "_functions", {}).get(name)
            if fn is not None:
                return fn.graph
            g = getattr(g, "outer_graph", None)
        return None

    def walk(g, input_keys):
        scope = next(scopes)
        keys = {t.name: k for t, k in zip(g.inputs, input_keys)}
        roots = [t.op for t in g.outputs] + [op for op in g.get_operations() if op.op_def.is_stateful]
        order, seen = [], set()
        for root in roots:                               # iterative post-order: inputs before the op
            stack = [(root, False)]
            while stack:
                op, done = stack.pop()
                if done:
                    order.append(op)
                elif op.name not in seen:
                    seen.add(op.name)
                    stack.append((op, True))
                    stack.extend((t.op, False) for t in op.inputs)
                    stack.extend((c, False) for c in op.control_inputs)
        for op in order:
            if op.outputs and op.outputs[0].name in keys:  # an input of a function body
                continue
            inputs = [keys.get(t.name, f"{scope}/{t.name}") for t in op.inputs]
            body = find(g, op.get_attr("f").name) if "f" in op.node_def.attr and op.type.endswith(
                "PartitionedCall") else None
            if body is not None:
                keys.update({t.name: k for t, k in zip(op.outputs, walk(body, inputs))})
                continue
            name = f"{scope}/{op.name}"
            if not op.op_def.is_stateful:
                attrs = tuple(sorted((k, v.SerializeToString()) for k, v in op.node_def.attr.items() if k != "_class"))
                sig = (op.type, tuple(inputs), attrs)
                if sig in signatures:
                    keys.update({t.name: f"{signatures[sig]}:{i}" for i, t in enumerate(op.outputs)})
                    continue
                signatures[sig] = name
            keys.update({t.name: f"{name}:{i}" for i, t in enumerate(op.outputs)})
            total[0] += op_flop(op)
        return [keys.get(t.name, f"{scope}/{t.name}") for t in g.outputs]

    walk(graph, [])
    return total[0]


def op_flop(op) -> int:
    """Multiply–adds × 2 of a 2-D convolution (forward or either backward) or a matrix product; 0 otherwise.

    A convolution and its two backward ops each cost 2·|y|·k_h·k_w·C_in, with y the forward output (the
    out_backprop of the backward ops) and (k_h, k_w, C_in, C_out) the filter."""
    import numpy as np
    try:
        if op.type in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"):
            y = op.outputs[0] if op.type == "Conv2D" else op.inputs[2]
            w = op.outputs[0] if op.type == "Conv2DBackpropFilter" else op.inputs[1]
            kh, kw, c_in, _ = w.shape.as_list()
            return 2 * int(np.prod(y.shape.as_list())) * kh * kw * c_in
        if op.type == "MatMul":
            a = op.inputs[0].shape.as_list()
            k = a[0] if op.get_attr("transpose_a") else a[1]
            return 2 * int(np.prod(op.outputs[0].shape.as_list())) * k
    except (TypeError, ValueError):          # an unknown dimension
        return 0
    return 0

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


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit status 2."""


# ----------------------------------------------------------------------------------------------------------
# Parsing.
# ----------------------------------------------------------------------------------------------------------


#: Method options that take numbers (the others, such as hvp and order, take names).
NUMERIC_OPTIONS = {"gamma", "std", "clip", "target", "epsilon", "n_d", "n_g", "num_draws"}


def parse_methods(text: str) -> List[Tuple[str, str, Dict[str, object]]]:
    """`gan,jare:hvp=forward` → [(label, name, options)], gan first (added when missing)."""
    from jare_tf import methods
    specs, seen = [], set()
    for label in [s.strip() for s in text.split(",") if s.strip()]:
        name, *opts = label.split(":")
        if name not in methods.names():
            raise UsageError(f"--methods: unknown method {name!r}; valid methods: {', '.join(methods.names())}.")
        options = {}
        for opt in opts:
            if "=" not in opt:
                raise UsageError(f"--methods: option {opt!r} of {name} must read option=value.")
            key, value = opt.split("=", 1)
            try:
                options[key] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                options[key] = value
            if key in NUMERIC_OPTIONS and (isinstance(options[key], bool)
                                           or not isinstance(options[key], (int, float))):
                raise UsageError(f"--methods: {name}:{opt}: {key} must be a number.")
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


# ----------------------------------------------------------------------------------------------------------
# Memory.
# ----------------------------------------------------------------------------------------------------------


def _return_free_heap() -> None:
    """Give memory freed by earlier calls back to the OS (glibc `malloc_trim`), so that the resident set before a
    call is what is live: otherwise a call that reuses another method's freed buffers looks smaller than it is."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):             # not glibc: the baseline keeps the freed memory
        pass


class Memory:
    """Peak working memory of one call: allocator statistics where kept, else the process' peak RSS."""

    def __init__(self, device: str):
        import tensorflow as tf
        self.tf, self.device = tf, device
        self.source = "rss"
        try:
            tf.config.experimental.reset_memory_stats(device)
            probe = tf.zeros([256, 1024]) + 1.0           # 1 MiB: a device that keeps statistics sees it
            if tf.config.experimental.get_memory_info(device)["peak"] >= probe.shape.num_elements() * 4:
                self.source = "allocator"
            del probe
        except (ValueError, RuntimeError, tf.errors.OpError):
            pass
        if self.source == "rss" and not os.access("/proc/self/clear_refs", os.W_OK):
            self.source = "rss_maxrss"

    def describe(self) -> str:
        return {"allocator": f"TensorFlow allocator peak on {self.device} (get_memory_info)",
                "rss": "process peak RSS (VmHWM, reset via /proc/self/clear_refs after malloc_trim)",
                "rss_maxrss": "process peak RSS (ru_maxrss; monotone, so an upper bound after the first method)",
                }[self.source]

    @staticmethod
    def _status(key: str) -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def measure(self, fn) -> int:
        """Bytes above the pre-call level at the peak of fn()."""
        tf = self.tf
        if self.source == "allocator":
            tf.config.experimental.reset_memory_stats(self.device)
            before = tf.config.experimental.get_memory_info(self.device)["current"]
            fn()
            return max(0, tf.config.experimental.get_memory_info(self.device)["peak"] - before)
        if self.source == "rss":
            _return_free_heap()
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = self._status("VmRSS")
            fn()
            return max(0, self._status("VmHWM") - before)
        import resource
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        fn()
        return max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before)


# ----------------------------------------------------------------------------------------------------------
# One timed method.
# ----------------------------------------------------------------------------------------------------------


class Case:
    """One method on one setting, built as training builds it, with a compiled multi-step function."""

    def __init__(self, label: str, name: str, options: Dict[str, object], config, spe: int, xla: bool,
                 mixed_precision: bool, real_source, gpu: bool):
        import keras
        import tensorflow as tf

        from jare_tf import methods, settings
        from jare_tf.data import images
        from jare_tf.training import optimizers
        from jare_tf.training.image_trainer import with_method_inputs
        from jare_tf.training.updater import Updater

        self.label, self.name = label, name
        opts = dict(settings.method_options(config, name), **options)
        try:
            self.method = methods.get(name, **opts)
        except TypeError as e:
            raise UsageError(f"--methods: bad option for {name}: {e}") from None
        self.policy = "float32"
        if mixed_precision and name not in SECOND_ORDER:
            self.policy = "mixed_bfloat16"
        previous = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy(self.policy)
        try:
            keras.utils.set_random_seed(config.seed)
            self.game = settings.image_game(config, self.method)
        finally:
            keras.mixed_precision.set_global_policy(previous)
        opt = optimizers.for_players(config.optimizer.g, config.optimizer.d, self.method.optimizer_overrides())
        self.updater = Updater(self.method, self.game, opt)
        self.optimizers = opt
        k = self.updater.batches_per_step()
        b, seed = config.batch_size, config.seed
        reals, zs = [], []
        for i in range(spe):
            reals.append(tf.stack([real_source(i * k + j) for j in range(k)]))
            zs.append(tf.stack([images.latents(i, j, b, config.z_dim, seed) for j in range(k)]))
        self.real, self.z = tf.stack(reals), tf.stack(zs)       # [spe, k, B, ...]
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False)
        method, updater, iteration = self.method, self.updater, self.iteration

        def one_step(real, z):
            step = iteration.read_value()

            def minibatch(j):
                return with_method_inputs(method, {"real": real[j], "z": z[j]}, seed, step, j)

            scalars = updater.step(minibatch)
            iteration.assign_add(1)
            # Every scalar training logs is computed (one sum, so nothing is pruned away).
            return tf.add_n([tf.cast(v, tf.float32) for v in scalars.values()])

        one_step = tf.function(one_step, jit_compile=xla, reduce_retracing=True)

        @tf.function
        def execute(real, z):
            def body(i, total):
                return i + 1, total + one_step(real[i], z[i])

            _, total = tf.while_loop(lambda i, total: i < spe, body, (tf.constant(0), tf.constant(0.0)))
            return total

        self._execute = execute
        self._one_step = one_step
        self.spe = spe

    def heavy_gflop(self) -> float:
        """GFLOP of the convolutions and matrix products one iteration runs: those in the traced step that its
        outputs or state updates need, each distinct computation once (the runtime prunes the rest and Grappler
        merges identical subexpressions, e.g. the forward passes extrapolation repeats). These networks spend
        almost all their time there, so the ratio of these counts is about the least time ratio a method can
        reach with these kernels."""
        graph = self._one_step.get_concrete_function(self.real[0], self.z[0]).graph
        return step_flop(graph) / 1e9

    def resident_bytes(self) -> int:
        variables = (self.game.generator.weights + self.game.discriminator.weights
                     + self.optimizers.g.variables + self.optimizers.d.variables)
        import numpy as np
        return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)

    def call(self) -> float:
        """One execution (spe iterations), synchronised by reading its result."""
        return float(self._execute(self.real, self.z).numpy())


def _real_source(config, fake: bool):
    """index ↦ the index-th real minibatch: fake images, or the setting's dataset (an error when it is not
    prepared)."""
    from jare_tf.data import images
    try:
        return _real_source_or_raise(config, fake)
    except (ValueError, images.DatasetNotPrepared) as e:
        raise UsageError(str(e)) from None


def _real_source_or_raise(config, fake: bool):
    from jare_tf.data import images
    b, size, seed = config.batch_size, config.image_size, config.seed
    if fake:
        channels = images.channels(config.dataset)
        return lambda index: images.fake_images(index, b, size, seed, channels)
    if not images.fits_in_memory(config.dataset, config.image_size):
        stream = iter(images.stream(config.dataset, size, config.data_dir or None, seed, b))
        cache = {}

        def streamed(index):
            while index not in cache:
                cache[len(cache)] = images.to_unit_range(next(stream))
            return cache[index]
        return streamed
    data = images.load_split(config.dataset, size, config.data_dir or None)
    import tensorflow as tf
    data = tf.constant(data)
    return lambda index: images.to_unit_range(images.permuted_batch(data, index, b, seed))


# ----------------------------------------------------------------------------------------------------------
# The benchmark.
# ----------------------------------------------------------------------------------------------------------


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


class Contention:
    """The share of the machine that other processes used during an interval: all CPUs' busy time (Linux
    /proc/stat) minus this process' CPU time, over the interval's wall time × CPUs. 0 where unknown."""

    def __init__(self):
        self.available = os.path.exists("/proc/stat")
        self.cpus = os.cpu_count() or 1
        self.tick = os.sysconf("SC_CLK_TCK") if self.available else 100

    def describe(self) -> str:
        return ("other processes' CPU share from /proc/stat" if self.available
                else "not measured (no /proc/stat): every round is used")

    def _busy(self) -> float:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)          # idle + iowait
        busy = sum(fields[:8]) - idle                                       # up to steal; guest is in user
        return busy / self.tick

    def start(self) -> None:
        if self.available:
            self._t = (time.perf_counter(), time.process_time(), self._busy())

    def stop(self) -> float:
        if not self.available:
            return 0.0
        wall, own, busy = (time.perf_counter(), time.process_time(), self._busy())
        others = (busy - self._t[2]) - (own - self._t[1])
        return max(0.0, others / max(1e-9, (wall - self._t[0]) * self.cpus))


def bench_setting(config, specs, steps: int, repeats: int, spe: int, xla: bool, mixed_precision: bool,
                  fake: bool, log=print, name: Optional[str] = None, max_contention: float = 1.0,
                  max_rounds: int = 0, max_minutes: float = float("inf")):
    """Time `specs` side by side on one setting; returns ({label: figures}, run information)."""
    import keras
    import tensorflow as tf

    gpu = bool(tf.config.list_physical_devices("GPU"))
    device = "GPU:0" if gpu else "CPU:0"
    memory = Memory(device)
    source = _real_source(config, fake)
    calls = steps // spe
    name = name or config.setting

    cases: List[Case] = []
    for label, method, options in specs:
        log(f"[{name}] building {label} …")
        cases.append(Case(label, method, options, config, spe, xla, mixed_precision, source, gpu))
    compile_s, peak = {}, {}
    for case in cases:
        t0 = time.perf_counter()
        case.call()                                      # trace, compile and run once
        compile_s[case.label] = time.perf_counter() - t0
        gc.collect()
        peak[case.label] = memory.measure(case.call) + case.resident_bytes()   # a warm call

    heavy = {case.label: case.heavy_gflop() for case in cases}
    # Rounds until `repeats` of them ran without other processes taking more than `max_contention` of the
    # machine (at most `max_rounds`); the figures come from those clean rounds.
    seconds: Dict[str, List[float]] = {c.label: [] for c in cases}
    clean: List[bool] = []
    probe = Contention()
    r = 0
    deadline = time.perf_counter() + 60.0 * max_minutes
    timed_out = False
    while sum(clean) < repeats and r < max(repeats, max_rounds):
        if r and time.perf_counter() > deadline:
            timed_out = True
            log(f"[{name}] --max_minutes={max_minutes:g} reached after {r} rounds ({sum(clean)} clean); the "
                f"figures come from these.")
            break
        order = cases[r % len(cases):] + cases[:r % len(cases)]
        worst = 0.0
        for case in order:
            probe.start()
            t0 = time.perf_counter()
            for _ in range(calls):
                case.call()
            seconds[case.label].append((time.perf_counter() - t0) / steps)
            worst = max(worst, probe.stop())
        clean.append(worst <= max_contention)
        r += 1
        log(f"[{name}] round {r}: " + ", ".join(f"{c.label} {1000 * seconds[c.label][-1]:.1f}" for c in cases)
            + f" s/1K; other processes used up to {100 * worst:.0f}% of the machine"
            + ("" if clean[-1] else " (round left out)"))
        if r == 1 and not clean[-1]:
            log(f"[{name}] the machine is busy: rounds in which other processes use more than "
                f"{100 * max_contention:.0f}% of it are left out and run again, up to {max(repeats, max_rounds)} "
                f"rounds or --max_minutes={max_minutes:g}; stop the other work for figures from clean rounds.")
    use = [i for i, ok in enumerate(clean) if ok]
    if len(use) < min(3, repeats):           # too few clean rounds: use all, and say so
        use = list(range(len(clean)))
    seconds = {label: [s[i] for i in use] for label, s in seconds.items()}

    results = {}
    for case in cases:
        s = seconds[case.label]
        results[case.label] = {
            "sec_per_1k": 1000 * statistics.median(s),
            "ratio_to_gan": statistics.median([a / g for a, g in zip(s, seconds[BASELINE])]),
            "peak_mem_mb": peak[case.label] / 2 ** 20,
            "min_sec_per_1k": 1000 * min(s),
            "max_sec_per_1k": 1000 * max(s),
            "trace_s": compile_s[case.label],
            "policy": case.policy,
            "gflop": heavy[case.label],
        }
    info = {"steps": steps, "repeats": repeats, "spe": spe, "batch_size": int(config.batch_size),
            "memory": memory.describe(), "device": device, "rounds": len(clean), "rounds_used": len(use),
            "clean_rounds": sum(clean), "max_contention": max_contention, "contention": probe.describe(),
            "timed_out": timed_out}
    del cases
    gc.collect()
    keras.backend.clear_session()
    return results, info


PUBLIC = ("sec_per_1k", "ratio_to_gan", "peak_mem_mb")




# ----------------------------------------------------------------------------------------------------------
# Output.
# ----------------------------------------------------------------------------------------------------------


def table(results) -> List[str]:
    lines = ["| method | s / 1K iterations | ratio to gan | min – max s / 1K | conv + matmul GFLOP (× gan) | "
             "peak memory (MiB) | trace + first call (s) |", "|---|---:|---:|---|---:|---:|---:|"]
    base = results[BASELINE]["gflop"]
    for label, r in results.items():
        suffix = "" if r["policy"] == "float32" else f" ({r['policy']})"
        lines.append(f"| {label}{suffix} | {r['sec_per_1k']:.1f} | {r['ratio_to_gan']:.2f} | "
                     f"{r['min_sec_per_1k']:.1f} – {r['max_sec_per_1k']:.1f} | "
                     f"{r['gflop']:.2f} ({r['gflop'] / base:.2f}) | {r['peak_mem_mb']:.0f} | "
                     f"{r['trace_s']:.1f} |")
    return lines


def findings(results) -> List[str]:
    """The comparisons the issue asks about, read off one setting's results."""
    out = []
    if {"jare", "conopt"} <= set(results):
        j, c = results["jare"]["ratio_to_gan"], results["conopt"]["ratio_to_gan"]
        out.append(f"jare/gan {j:.2f}, conopt/gan {c:.2f}: jare {'≤' if j <= c else '>'} conopt")
    for base in ("jare", "conopt"):
        fwd = f"{base}:hvp=forward"
        if base in results and fwd in results:
            r, f = results[base]["sec_per_1k"], results[fwd]["sec_per_1k"]
            out.append(f"{base}: reverse-over-reverse {r:.0f}, forward-over-reverse {f:.0f} s/1K → "
                       f"{'reverse' if r <= f else 'forward'} is faster (forward/reverse {f / r:.2f})")
    return out


def render(runs) -> str:
    lines = [
        "# Training speed: seconds per 1K iterations (JARE paper Fig. 4)",
        "",
        "Written by `jare-bench --report`; each section is one command, run again to replace it. Do not edit by "
        "hand.",
        "",
        "Protocol: every method is built as training builds it (the setting's models and optimizers, the "
        "Updater) and runs steps_per_execution iterations per call of one tf.function; tracing, compilation and "
        "the first call are excluded. The methods are timed in interleaved rounds (the order rotates from round "
        "to round) in one process; seconds per 1K iterations is the median over rounds, the ratio to gan the "
        "median of the per-round ratios; rounds in which other processes took a share of the machine are left "
        "out (each setting says how many rounds were used). Peak memory is the method's resident state "
        "(parameters, layer state, optimizer slots) plus the peak working memory of one call above what was in "
        "use before it. GFLOP: the convolutions and matrix products one iteration executes (after pruning and "
        "merging of identical subexpressions), about the least time ratio reachable with the same kernels.",
    ]
    for run in runs:
        results, infos = run["results"], run["infos"]
        labels = list(next(iter(results.values())).keys())
        lines += ["", f"## `{run['command']}`", "",
                  f"- Machine: {run['machine']}",
                  f"- Date: {run['date']}",
                  f"- Options: {run['options']}",
                  "", "Seconds per 1K iterations (ratio to gan):", "",
                  "| setting | " + " | ".join(labels) + " |",
                  "|---|" + "---:|" * len(labels)]
        for setting, res in results.items():
            lines.append(f"| {setting} | " + " | ".join(
                f"{res[m]['sec_per_1k']:.0f} ({res[m]['ratio_to_gan']:.2f})" if m in res else "–"
                for m in labels) + " |")
        checks = [f"- {setting}: {text}" for setting, res in results.items() for text in findings(res)]
        if checks:
            lines += [""] + checks
        for setting, res in results.items():
            info = infos[setting]
            lines += ["", f"### Setting {setting}", "",
                      f"Batch {info['batch_size']}; {info['steps']} timed iterations of every method per round, "
                      f"{info['spe']} iterations per call; {rounds_text(info)}; device {info['device']}; "
                      f"memory: {info['memory']}.", ""]
            lines += table(res)
    return "\n".join(lines) + "\n"


def rounds_text(info) -> str:
    text = (f"{info['rounds_used']} of {info['rounds']} rounds used (left out: rounds in which other processes "
            f"used more than {100 * info['max_contention']:.0f}% of the machine; {info['contention']})")
    if info["rounds_used"] == info["rounds"] and info["clean_rounds"] < info["rounds"]:
        text += "; too few clean rounds, so all are used: the figures are contended"
    if info.get("timed_out"):
        text += "; stopped by --max_minutes"
    return text


def _atomic_write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_report(path: str, run: dict) -> None:
    """Replace (or add) this command's section; the sections live in a JSON file beside the markdown."""
    store = os.path.splitext(path)[0] + ".json"
    runs = []
    if os.path.exists(store):
        with open(store, encoding="utf-8") as f:
            runs = json.load(f)
    runs = [r for r in runs if r["key"] != run["key"]] + [run]
    _atomic_write(store, json.dumps(runs, indent=1) + "\n")
    _atomic_write(path, render(runs))


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
            check_methods(config, specs)
            steps = steps_for.get(setting, FLAGS.steps)
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
               "machine": provenance.machine(), "options": options,
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


if __name__ == "__main__":
    run()
