"""One timed method (`Case`: built as training builds it, with a compiled multi-step function) and the
interleaved timing rounds of one setting (`bench_setting`)."""

import gc
import statistics
import time
from typing import Dict, List, Optional

from jare_tf.bench.contention import Contention
from jare_tf.bench.flops import step_flop
from jare_tf.bench.memory import Memory
from jare_tf.bench.parsing import BASELINE, UsageError

#: Methods with second-order terms (double backprop): kept in float32 under --mixed_precision.
SECOND_ORDER = ("conopt", "jare", "gen_only", "disc_only", "r1", "r2", "wgan_gp")


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
        reach with these kernels. For a lazy method it is the mean over the iterations of one cycle."""
        graph = self._one_step.get_concrete_function(self.real[0], self.z[0]).graph
        every = getattr(self.method, "every", 1)       # lazy: one regularised iteration in every
        return step_flop(graph, (1 / every, 1 - 1 / every) if every > 1 else None) / 1e9

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
    dataset = images.from_config(config)
    if fake:
        channels = dataset.channels
        return lambda index: images.fake_images(index, b, size, seed, channels)
    if not images.fits_in_memory(dataset, config.image_size):
        stream = iter(images.stream(dataset, size, config.data_dir or None, seed, b))
        cache = {}

        def streamed(index):
            while index not in cache:
                cache[len(cache)] = images.to_unit_range(next(stream))
            return cache[index]
        return streamed
    data = images.load_split(dataset, size, config.data_dir or None)
    import tensorflow as tf
    data = tf.constant(data)
    return lambda index: images.to_unit_range(images.permuted_batch(data, index, b, seed))


# ----------------------------------------------------------------------------------------------------------


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
