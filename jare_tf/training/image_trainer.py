"""Training on the image settings (A–F, CelebA, ImageNet) with keras.Model.fit.

`ImageRun(config, method).train(workdir)`: builds the Game and the GANModel, restores the latest checkpoint of
`workdir/checkpoints` if there is one (so running the same command again resumes), and fits the remaining steps
with `steps_per_execution` steps per call, reporting `Progress` (a line in place on a terminal, plain lines in a
log file). The Monitor callback writes TensorBoard scalars
(losses, gradient norms, regulariser values) every `log_every` steps and an 8×8 grid of samples from a fixed z
every `sample_every` steps to `workdir/train`, and saves a checkpoint (models, both optimizers, iteration) every
`checkpoint_every` steps, at the end and, for a fresh run, at step 0 (the untrained generator, whose FID is the
ceiling a run's curve starts from) — never one with non-finite parameters. `metrics.json` holds the final
step, losses and seconds per step; every checkpoint stores those of its own step too (resume.py), so a run
killed between its final checkpoint and metrics.json writes the same metrics.json when it runs again.

SIGTERM while it trains stops the run at the end of the current execution with a checkpoint of that step
(`Preempted`). The handler is installed only while `train` runs and the caller's is put back; a SIGTERM that
comes when nothing is left to interrupt (during the last execution) lets the run finish and is then passed on:
to the caller's handler if it installed one, as `Preempted` otherwise, so a process that trains several runs
(jare-reproduce) stops instead of going on to the next.
"""

import json
import math
import os
import signal
import sys
import time
from typing import Callable, Dict, Optional

import keras
import tensorflow as tf

from jare_tf import config_checks, settings
from jare_tf.data import images
from jare_tf.data.synthetic import step_seed
from jare_tf.methods import gradient_norms, lazy
from jare_tf.training import distribute, optimizers, resume
from jare_tf.training.gan_model import GANModel
from jare_tf.training.updater import NON_FINITE
from jare_tf.training.workdir import (NonFiniteError, Preempted, checkpoint_bytes, disk_full, is_out_of_space,
                                     make_workdir, read_json, save_config, set_aside_checkpoints,
                                     write_config_text, write_json)
from jare_tf.training.workdir_lock import WorkdirLock

GRID = 8


def sample_grid(samples: tf.Tensor) -> tf.Tensor:
    """[64, H, W, C] in [−1, 1] → one [1, 8H, 8W, C] image in [0, 1]."""
    n, h, w, c = samples.shape
    x = tf.reshape((samples[:GRID * GRID] + 1.0) / 2.0, [GRID, GRID, h, w, c])
    x = tf.transpose(x, [0, 2, 1, 3, 4])
    return tf.clip_by_value(tf.reshape(x, [1, GRID * h, GRID * w, c]), 0.0, 1.0)


def with_method_inputs(method, batch: Dict[str, tf.Tensor], seed: int, step, k: int) -> Dict[str, tf.Tensor]:
    """The k-th minibatch of a step with the method's own random inputs, drawn from (seed, step, k), and its
    inputs that are a function of the step (lazy regularisation's iteration number)."""
    return dict(batch, **method.sample_inputs(batch, step_seed(seed + 2, step, k)),
                **method.iteration_inputs(batch, step))


class Monitor(keras.callbacks.Callback):
    """TensorBoard scalars and sample grids, and checkpoints, at step boundaries."""

    def __init__(self, run: "ImageRun", writer, manager: tf.train.CheckpointManager, metrics: tf.Variable,
                 restored: Optional[str], t0: float):
        super().__init__()
        self.run, self.writer, self.manager, self.metrics_variable = run, writer, manager, metrics
        self.last_step = None
        self.last_logs: Dict[str, float] = {}
        self.preempted = False
        # The checkpoint known to be on disk and readable: the one restored, then each one saved. Only a save at
        # its step is skipped; the manager's latest_checkpoint may name an unreadable one that restore_newest
        # fell back past, and that one is written anew when training reaches its step.
        self.saved, self.saved_step = restored, resume.checkpoint_step(restored) if restored else None
        self.saved_metrics: Optional[Dict[str, object]] = None
        self.t0 = t0
        self.start_step = None

    def _crossed(self, every: int, step: int) -> bool:
        return every > 0 and step // every > self.last_step // every

    def on_train_begin(self, logs=None):
        self.last_step = self.start_step = int(self.run.model.iteration.numpy())
        if self.last_step == 0:
            self.save(0)   # the initial parameters: scores of the untrained generator, curves from step 0

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.run.model.iteration.numpy())
        c = self.run.config
        logs = logs if logs is not None else {}
        quantity = self.run.model.updater.non_finite_name(logs.pop(NON_FINITE, 0.0))   # not for the progress bar
        if quantity is not None:
            raise NonFiniteError(f"Training stopped at step {step}: {quantity} is not finite. The last finite "
                                 f"checkpoint is kept ({self.saved or 'none written yet'}).")
        self.last_logs = {k: float(v) for k, v in logs.items()}
        if self._crossed(c.log_every, step) or step == c.num_steps:
            with self.writer.as_default(step=step):
                for key, value in self.last_logs.items():
                    tf.summary.scalar(key, value)
        if self._crossed(c.sample_every, step):
            self.write_samples(step)
        if self._crossed(c.get("spectrum_every", 0), step):
            self.write_spectrum(step)
        # A preemption notice to any worker stops all of them, at the same step, with a checkpoint.
        self.preempted = distribute.any_worker(self.run.strategy, self.preempted)
        if self._crossed(c.checkpoint_every, step) or self.preempted:
            self.save(step)
        if self.preempted:
            self.model.stop_training = True
        self.last_step = step

    def write_spectrum(self, step: int):
        """The top spectrum_k eigenvalues of the applied update on this step's minibatch (analysis/krylov.py):
        top |λ|, ζ and η_max of the converged Ritz values as scalars, and their scatter as an image."""
        from jare_tf.analysis import krylov
        from jare_tf.evaluation import plots
        run, c = self.run, self.run.config
        batch = {key: value[0] for key, value in next(iter(run.global_batches(step, step + 1))).items()}
        scalars, result = krylov.training_summary(run.method, run.game, batch, c.spectrum_k,
                                                  float(c.optimizer.d["learning_rate"]),
                                                  c.get("spectrum_operator", "field"), run.model.updater.optimizers)
        png = plots.eigenvalue_scatter_png(result.eigenvalues, result.converged, f"step {step}")
        with self.writer.as_default(step=step):
            for key, value in scalars.items():
                if math.isfinite(value):
                    tf.summary.scalar(key, value)
            tf.summary.image("spectrum/eigenvalues", tf.io.decode_png(png)[None])

    def write_samples(self, step: int):
        with self.writer.as_default(step=step):
            tf.summary.image("samples", sample_grid(self.run.samples()))

    def metrics(self, step: int) -> Dict[str, object]:
        """What metrics.json holds at `step`: the step, its logged values, the seconds per step of this call."""
        metrics = {"step": step, **{k: v for k, v in self.last_logs.items() if math.isfinite(v)}}
        if step > self.start_step:
            metrics["seconds_per_step"] = (time.perf_counter() - self.t0) / (step - self.start_step)
        return metrics

    def save(self, step: int):
        if step == self.saved_step:
            return                                      # this step is saved already
        bad = [v.name for v in self.run.model.generator.weights + self.run.model.discriminator.weights
               if not bool(tf.reduce_all(tf.math.is_finite(v)))]
        if bad:
            raise NonFiniteError(f"Non-finite parameters at step {step} ({', '.join(bad[:3])}); the last finite "
                                 f"checkpoint in {self.manager.directory} is kept.")
        metrics = self.metrics(step)
        self.metrics_variable.assign(json.dumps(metrics))
        self.saved = self.manager.save(checkpoint_number=step)
        self.saved_step, self.saved_metrics = step, metrics

    def on_train_end(self, logs=None):
        step = int(self.run.model.iteration.numpy())
        if not self.preempted:
            self.write_samples(step)
            self.save(step)
        self.writer.flush()


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else (
        f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s")


class Progress(keras.callbacks.Callback):
    """Progress of the run by its true iteration (not Keras' count of executions, which overshoots a last partial
    one): on a terminal one line rewritten in place after every execution; otherwise (a log file, a pipe) one plain
    line per `log_every` steps and at the end: step, losses and regulariser values, steps/s and the ETA.

    The rate is counted from the end of the first execution, which holds the tracing and compilation of the step
    (seconds, more for second-order methods): counted from the start it made the rate of a short run, and the
    ETA of every run's first lines, read slower than training is. Until a second execution ends it is "?", except
    on the last line of a run done in one execution, which gives the rate over the whole call and ETA 0s."""

    def __init__(self, run: "ImageRun", stop: int, out=None):
        super().__init__()
        self.run, self.stop = run, stop
        self.out = out or sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.first_step = self.first_time = self.last_step = self.start_step = self.start_time = None

    def on_train_begin(self, logs=None):
        self.start_step = self.last_step = int(self.run.model.iteration.numpy())
        self.start_time = time.perf_counter()
        self.first_step = self.first_time = None

    def line(self, step: int, logs: Dict[str, float]) -> str:
        rate = 0.0
        if self.first_time is not None and step > self.first_step:
            rate = (step - self.first_step) / max(time.perf_counter() - self.first_time, 1e-9)
        elif step >= self.stop and step > self.start_step:   # done in one execution: its rate, tracing included
            rate = (step - self.start_step) / max(time.perf_counter() - self.start_time, 1e-9)
        shown = "  ".join(f"{k} {float(v):.4g}" for k, v in sorted(logs.items()) if k.startswith(("loss/", "reg/")))
        speed, eta = (f"{rate:.2f}", _duration((self.stop - step) / rate)) if rate > 0 else ("?", "?")
        return f"step {step}/{self.stop} ({100 * step // max(self.stop, 1)}%)  {shown}  {speed} steps/s  ETA {eta}"

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.run.model.iteration.numpy())
        if self.first_time is None:                     # the first execution ends: tracing is behind us
            self.first_step, self.first_time = step, time.perf_counter()
        every = self.run.config.log_every
        if self.tty:
            self.out.write("\r" + self.line(step, logs or {}) + "\x1b[K" + ("\n" if step >= self.stop else ""))
        elif step >= self.stop or (every > 0 and step // every > self.last_step // every):
            self.out.write(self.line(step, logs or {}) + "\n")
        self.out.flush()
        self.last_step = step


class ImageRun:
    """One method on one image setting, under `strategy` (the default strategy: one device)."""

    def __init__(self, config, method_name: str, strategy: Optional[tf.distribute.Strategy] = None):
        if config.batch_size <= 0 or config.num_steps < 0 or config.steps_per_execution <= 0:
            raise ValueError(f"Need --batch_size > 0, --num_steps >= 0 and steps_per_execution > 0; got "
                             f"{config.batch_size}, {config.num_steps} and {config.steps_per_execution}.")
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if config.batch_size % replicas:
            raise ValueError(f"--batch_size={config.batch_size} is the global batch and must divide evenly over the "
                             f"{replicas} replicas; use a multiple of {replicas}.")
        # An unknown --config.dataset, or your own data that cannot be read, fails before anything else.
        self.data = images.from_config(config)
        if config.get("spectrum_every", 0) and replicas > 1:
            raise ValueError(f"--config.spectrum_every={config.spectrum_every} analyses the applied update on one "
                             f"device; it is not available under {replicas} replicas (set it to 0, or analyse a "
                             f"checkpoint afterwards with jare-spectrum --workdir).")
        self.config = config
        self.method = settings.make_method(config, method_name)
        with self.strategy.scope():
            keras.utils.set_random_seed(config.seed)      # the initial weights are a function of the seed
            self.game = settings.image_game(config, self.method, channels=self.data.channels)
            if getattr(self.method, "hvp", None) == "forward":
                gradient_norms.check_forward_mode(self.game, replicas)
            lazy.check_replicas(self.method, self.game, replicas)
            opts = optimizers.for_players(config.optimizer.g, config.optimizer.d, self.method.optimizer_overrides())
            self.model = GANModel(self.game, self.method, opts)
            self.model.compile(optimizer=None, steps_per_execution=config.steps_per_execution,
                               jit_compile=config_checks.JIT_COMPILE[config.get("jit_compile", "auto")])
        self.minibatches = self.model.updater.batches_per_step()
        self.streamed = not config.fake_data and not images.fits_in_memory(self.data, config.image_size)
        self.real = None if config.fake_data or self.streamed else tf.constant(
            images.load_split(self.data, config.image_size, config.data_dir or None))
        if self.streamed:   # fail early when it is not prepared, or a folder's image does not decode
            images.stream(self.data, config.image_size, config.data_dir or None, config.seed, 1)
            if self.data.kind == "folder":
                images.check_folder(self.data, config.image_size)
        self.fixed_z = tf.random.stateless_normal([GRID * GRID, config.z_dim], [config.seed, 0x6B1D])

    def samples(self) -> tf.Tensor:
        x, _ = self.game.generate(self.game.params().g, self.fixed_z, self.game.state().g)
        return x

    def global_batches(self, start: int, stop: int) -> tf.data.Dataset:
        """Steps [start, stop) as global batches: {"real", "z", method inputs}, each [K, B, ...] for the K
        minibatches of a step; a function of (seed, step) only."""
        c, k_per_step, method = self.config, self.minibatches, self.method

        def make(step, streamed=None):
            minibatches = []
            for k in range(k_per_step):
                index = step * k_per_step + k
                if streamed is not None:
                    real = images.to_unit_range(streamed[k])
                elif self.real is None:
                    real = images.fake_images(index, c.batch_size, c.image_size, c.seed, self.data.channels)
                else:
                    real = images.to_unit_range(images.permuted_batch(self.real, index, c.batch_size, c.seed))
                batch = {"real": real, "z": images.latents(step, k, c.batch_size, c.z_dim, c.seed)}
                minibatches.append(with_method_inputs(method, batch, c.seed, step, k))
            return {key: tf.stack([b[key] for b in minibatches]) for key in minibatches[0]}

        steps = tf.data.Dataset.range(start, stop)
        if self.streamed:
            real = images.stream(self.data, c.image_size, c.data_dir or None, c.seed, c.batch_size,
                                 start * k_per_step).batch(k_per_step)
            return tf.data.Dataset.zip((steps, real)).map(make, num_parallel_calls=tf.data.AUTOTUNE)
        return steps.map(make, num_parallel_calls=tf.data.AUTOTUNE)

    def dataset(self, start: int, stop: int):
        """The distributed dataset `fit` consumes: each replica's slice of every global batch."""
        return distribute.per_replica_dataset(self.strategy, lambda: self.global_batches(start, stop),
                                              self.config.batch_size)

    def train(self, workdir: str, log: Callable[[str], None] = print, verbose: int = 1,
              overwrite: bool = False) -> Dict[str, object]:
        """Train (or resume) to config.num_steps; verbose=1 prints `Progress` to stdout, 0 prints nothing. The
        chief holds the workdir's lock throughout (workdir_lock: a second run there stops with WorkdirBusy). The
        result is the final step and losses with `seconds` (of this call's training) and `already_finished`
        (True when the run was finished before and its saved metrics were returned). A full disk, also when
        the workdir or its lock is made, raises DiskFull (one line; the lock is not left behind)."""
        self._sigterm = None
        try:
            make_workdir(workdir)
            with WorkdirLock(workdir, log, enabled=distribute.is_chief(self.strategy)):
                result = self._train(workdir, log, verbose, overwrite)
        except Exception as e:
            if not is_out_of_space(e):
                raise
            kept = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
            m = self.model
            needed = checkpoint_bytes(kept) or sum(
                v.numpy().nbytes for v in m.generator.weights + m.discriminator.weights
                + m.g_optimizer.variables + m.d_optimizer.variables)
            raise disk_full(workdir, needed, f"the last complete checkpoint, {kept}, is intact" if kept
                            else "no checkpoint was completed") from None
        if self._sigterm is not None:                   # the run is finished and the lock released: pass it on
            previous, self._sigterm = self._sigterm, None
            if callable(previous):
                signal.raise_signal(signal.SIGTERM)     # the caller's own handler runs now
            elif previous != signal.SIG_IGN:
                raise Preempted(f"SIGTERM arrived as the run finished: it is complete at step {result['step']} "
                                f"(final checkpoint and {os.path.join(workdir, 'metrics.json')} written).")
        return result

    def _train(self, workdir: str, log: Callable[[str], None], verbose: int, overwrite: bool) -> Dict[str, object]:
        c = self.config
        # Under multi-worker training every worker saves (variables may need collective reads), but only the
        # chief writes into the workdir; the others write to a scratch folder removed at the end.
        chief = distribute.is_chief(self.strategy)
        checkpoints = os.path.join(workdir, "checkpoints")
        scratch = None if chief else os.path.join(workdir, f"worker-{distribute.worker_id(self.strategy)}.tmp")
        config = settings.run_config(c, self.method.name, self.game.family)
        # The config stored in the newest checkpoint that has one: it recreates a lost config.json, and a
        # command with other experiment values is refused against it as against config.json (resume.py).
        if chief:
            resume.set_aside_a_damaged_state_file(checkpoints, log)
        stored = next((s for s in map(resume.stored_config, resume.candidates(checkpoints)) if s is not None), None)
        config_path = os.path.join(workdir, "config.json")
        if stored is not None and chief and not tf.io.gfile.exists(config_path):
            write_json(config_path, stored)
            log(f"{config_path} was missing; recreated it from the config stored in the checkpoints.")
        resolved = save_config(workdir, config, overwrite, write=chief, checkpointed=stored)
        checkpoint = self.model.checkpoint()
        checkpoint.run_config = resume.config_variable(resolved)
        manager = tf.train.CheckpointManager(
            checkpoint, checkpoints if chief else os.path.join(scratch, "checkpoints"), max_to_keep=c.keep_checkpoints)
        try:
            latest, _ = resume.restore_newest(checkpoint, checkpoints, log)
        except resume.NoneReadable as e:
            if not overwrite:
                raise
            # The failed restores may have set some variables: start from a model built anew (the same one: its
            # initial weights are a function of the seed).
            aside = set_aside_checkpoints(workdir) if chief else None
            log(f"{str(e).split('. Pass --overwrite')[0]}. --overwrite: "
                + (f"set them aside as {aside} (nothing is deleted); " if aside else "")
                + "training from step 0.")
            self.__init__(self.config, self.method.name, self.strategy)
            return self._train(workdir, log, verbose, overwrite)
        # Added after the restore, so checkpoints written before they stored metrics still match the model; here
        # it takes up the stored value, which no longer goes unclaimed (TensorFlow would warn about it).
        checkpoint.metrics = resume.metrics_variable()
        if latest:
            checkpoint.run_config.assign(json.dumps(resolved, sort_keys=True))   # restore() put the stored one back
            log(f"Resuming {latest} at step {int(self.model.iteration.numpy())}.")
        start = int(self.model.iteration.numpy())
        if not distribute.workers_agree(self.strategy, start):
            raise ValueError(f"The workers of this run start from different steps (this one from {start}): every "
                             f"worker must see the same --workdir (a bucket or a shared file system), and "
                             f"--overwrite is for a run whose workers are all stopped.")
        metrics_path = os.path.join(workdir, "metrics.json")
        if start >= c.num_steps and tf.io.gfile.exists(metrics_path):
            # A finished run run again: its results stay as they are (no new events file, no rewritten metrics).
            log(f"The run in {workdir} is finished (step {start} of {c.num_steps}); its results are kept. Raise "
                f"--num_steps to extend it.")
            return dict(read_json(metrics_path, expect=dict), seconds=0.0, already_finished=True)
        if start >= c.num_steps:
            # Finished, but stopped before metrics.json was written: the final checkpoint holds its metrics.
            final = resume.stored_metrics(latest) if latest else None
            how = f"from the metrics stored in {latest}"
            if final is None or final.get("step") != start:
                final, how = {"step": start}, (f"with the step alone: {latest} holds no metrics (it was written "
                                                f"before checkpoints stored them)")
            if chief:
                write_json(metrics_path, final)
                log(f"The run in {workdir} is finished (step {start} of {c.num_steps}) but had no metrics.json; "
                    f"wrote it {how}.")
            return dict(final, seconds=0.0, already_finished=True)
        coarse = [f"{name}={c[name]}" for name in ("checkpoint_every", "log_every", "sample_every", "spectrum_every")
                  if c.get(name, 0) and c[name] % c.steps_per_execution]
        if coarse and chief:
            log(f"Note: {', '.join(coarse)}: these take effect where an execution of "
                f"steps_per_execution={c.steps_per_execution} steps ends, at the first end after each multiple; "
                f"make them multiples of it (or lower --config.steps_per_execution) for exact intervals.")
        writer = (tf.summary.create_file_writer(os.path.join(workdir, "train")) if chief
                  else tf.summary.create_noop_writer())
        write_config_text(writer, resolved, start)
        t0 = time.perf_counter()
        monitor = Monitor(self, writer, manager, checkpoint.metrics, latest, t0)

        def on_sigterm(signum, frame):
            monitor.preempted = True

        previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            callbacks = [monitor] + ([Progress(self, c.num_steps)] if verbose else [])
            self.model.fit(self.dataset(start, c.num_steps), steps_per_epoch=c.num_steps - start, shuffle=False,
                           callbacks=callbacks, verbose=0)
        finally:
            # None: a handler set outside Python, which cannot be put back; the default is the closest.
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
            if scratch is not None and tf.io.gfile.exists(scratch):
                tf.io.gfile.rmtree(scratch)
        step = int(self.model.iteration.numpy())
        if monitor.preempted and step < c.num_steps:
            raise Preempted(f"SIGTERM: checkpoint written at step {step} ({manager.latest_checkpoint}); run the "
                            f"same command to resume.")
        if monitor.preempted:                           # nothing was left to interrupt: passed on by train()
            self._sigterm = previous
        seconds = time.perf_counter() - t0
        # The metrics stored in the final checkpoint, so that a rerun after a kill before this write writes these.
        final = monitor.saved_metrics if monitor.saved_step == step else monitor.metrics(step)
        if chief:
            write_json(metrics_path, final)
        return dict(final, seconds=seconds, already_finished=False)
