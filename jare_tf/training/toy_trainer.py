"""Training on the toy settings (isotropic Gaussian, Dirac-GAN, mixture of Gaussians, N&K streamlines).

The steps between two log points run inside one tf.function (a tf.range loop over `Updater.step`), so a run is
not Python-bound: 15,000 isotropic JARE steps take about 6 s on two CPU cores, tracing included (8 s with the
setting's 151 log points and 31 spectra). At every log point the trainer records the setting's metrics, the
method's losses, gradient norms and regulariser values on a fresh minibatch, ζ and τ of the game Jacobian where
it is small enough to be dense, and sample images where the setting has them; everything goes to TensorBoard
(`workdir/train`), and the run ends with `metrics.json` (final values), `history.json` (every log point),
`parameters.npz` (the players' variables at the last step, for `jare-spectrum --workdir`) and `config.json` (the
resolved config, settings.run_config) in the workdir. Toy runs keep no resumable checkpoints: the same command
run again returns the finished run's saved results (nothing is retrained or rewritten); a run that did not
finish, or one asked for another number of steps, trains again from step 0.
"""

import math
import os
import time
from collections import defaultdict
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf
from scipy.sparse.linalg import ArpackError

from jare_tf import settings
from jare_tf.analysis import jacobian, spectrum
from jare_tf.data import synthetic
from jare_tf.evaluation import plots
from jare_tf.methods import lazy
from jare_tf.training import optimizers
from jare_tf.training.toy_settings import SETTINGS
from jare_tf.training.updater import NON_FINITE, Updater
from jare_tf.training.workdir import (NonFiniteError, disk_full, is_out_of_space, make_workdir, read_json,
                                     read_npz, save_config, write_config_text, write_json, write_npz)
from jare_tf.training.workdir_lock import WorkdirLock


PARAMETERS = "parameters.npz"


def _finite_or_none(x: float) -> Optional[float]:
    return float(x) if math.isfinite(x) else None


class ToyRun:
    """One method on one toy setting."""

    def __init__(self, config, method_name: str):
        if config.setting not in SETTINGS:
            raise ValueError(f"{config.setting!r} is not a toy setting ({', '.join(SETTINGS)}); training the image "
                             f"settings is not available in this version of jare-train.")
        if config.batch_size <= 0 or config.num_steps < 0 or config.log_every <= 0:
            raise ValueError(f"Need batch_size > 0, num_steps >= 0 and log_every > 0; got {config.batch_size}, "
                             f"{config.num_steps} and {config.log_every}.")
        self.config, self.setting = config, SETTINGS[config.setting]
        self.method = settings.make_method(config, method_name)
        if self.method.spectral_norm_discriminator:
            raise ValueError(f"--method={method_name} needs a spectrally normalised discriminator; it runs on "
                             f"the image settings, not on --setting={config.setting}.")
        self.family = self.method.required_family or config.game.family
        self.game = self.setting.build_game(config, self.family)
        self.optimizers = optimizers.for_players(config.optimizer.g, config.optimizer.d,
                                                 self.method.optimizer_overrides())
        self.updater = Updater(self.method, self.game, self.optimizers)
        self._run_steps = tf.function(self._steps, jit_compile=bool(config.get("jit_compile", False)))
        self._scalars = tf.function(self._scalars_at)

    @classmethod
    def finished(cls, workdir: str) -> "ToyRun":
        """The run a finished toy workdir holds (config.json), its game at the last step (parameters.npz)."""
        run = cls(*settings.from_saved(read_json(os.path.join(workdir, "config.json"), expect=dict)))
        run.load_parameters(workdir)
        return run

    def final_batch(self) -> Dict[str, tf.Tensor]:
        """The minibatch of the last step (num_steps), on which jare-spectrum analyses a finished run."""
        return self.batch(tf.constant(self.config.num_steps, tf.int64))

    def save_parameters(self, workdir: str) -> None:
        """parameters.npz: every variable of both players (trainable and state) by its path."""
        write_npz(os.path.join(workdir, PARAMETERS), {key: v.numpy() for key, v in self._all_variables()})

    def load_parameters(self, workdir: str) -> None:
        """Set the game's variables from a finished run's parameters.npz (this run's config must built it)."""
        path = os.path.join(workdir, PARAMETERS)
        if not tf.io.gfile.exists(path):
            raise ValueError(f"--workdir={workdir} has no {PARAMETERS}: the run has not finished (run its "
                             f"jare-train command again to finish it), or was made before toy runs saved their "
                             f"parameters (train it again with --overwrite).")
        saved = read_npz(path)
        variables = dict(self._all_variables())
        if sorted(saved) != sorted(variables):
            raise ValueError(f"{path} holds {sorted(saved)}, but the run's config builds {sorted(variables)}.")
        for key, v in variables.items():
            if saved[key].shape != tuple(v.shape):
                raise ValueError(f"{path}: {key} has shape {saved[key].shape}, the run's model {v.shape}.")
            v.assign(saved[key])

    def _all_variables(self):
        """(key, variable) for every variable of both players; keys are unique (layer paths are not)."""
        return [(f"{model.name}.{i}.{v.path.replace('/', '.')}", v)
                for model in (self.game.generator, self.game.discriminator) for i, v in enumerate(model.variables)]

    def batch(self, step, k: int = 0) -> Dict[str, tf.Tensor]:
        seed = synthetic.step_seed(self.config.seed, step, k)
        batch = self.setting.sample(self.config, seed)
        batch.update(self.method.sample_inputs(batch, tf.random.experimental.stateless_fold_in(seed, 7)))
        batch.update(self.method.iteration_inputs(batch, step))
        return batch

    def _steps(self, start, stop):
        """Steps [start, stop); returns (the last step run + 1, its NON_FINITE flag): a flagged step ends the loop."""
        flag, done = tf.constant(0.0), start
        for i in tf.range(start, stop):
            if flag > 0:
                break
            flag = self.updater.step(lambda k: self.batch(i, k))[NON_FINITE]
            done = i + 1
        return done, flag

    def _scalars_at(self, step):
        stage = self.method.stages()[0]
        return self.method.directions(self.game, self.game.params(), self.game.state(), self.batch(step),
                                      stage).scalars

    def krylov_spectrum(self, step: int):
        """The top spectrum_k eigenvalues of the applied update on the step's minibatch, matrix-free."""
        from jare_tf.analysis import krylov
        return krylov.training_summary(self.method, self.game, self.batch(tf.constant(step, tf.int64)),
                                       self.config.get("spectrum_k", 20),
                                       float(self.config.optimizer.d["learning_rate"]),
                                       self.config.get("spectrum_operator", "field"), self.optimizers)

    def spectrum(self, step: int) -> spectrum.Spectrum:
        """The dense spectrum of the field on the step's minibatch; a lazy method's averaged over its cycle."""
        batch = self.batch(tf.constant(step, tf.int64))
        method = lazy.cycle_average(self.method)
        stages = method.stages()
        if len(stages) == 1 and stages[0].repeats == 1:
            a = jacobian.vector_field_jacobian(method, self.game, batch)
        else:
            h = float(self.config.optimizer.d["learning_rate"])
            a = (jacobian.update_operator_jacobian(method, self.game, batch, h) - np.eye(
                sum(int(np.prod(v.shape)) for group in self.game.variables() for v in group))) / h
        if self.config.get("spectrum_operator", "field") == "optimizer":   # M = D·A (analysis/optimizer_step.py)
            from jare_tf.analysis import optimizer_step
            a = optimizer_step.preconditioner(self.optimizers, self.game, self.method,
                                              "--config.spectrum_operator=optimizer").diagonal[:, None] * a
        return spectrum.analyse(a)

    def train(self, workdir: str, log: Callable[[str], None] = print, overwrite: bool = False) -> Dict[str, object]:
        """Train to config.num_steps, or return a finished run's saved results; holds the workdir's lock. The
        result is the final metrics with `seconds` (of training; a finished run's saved time) and
        `already_finished` (True when the saved results were returned and nothing was trained). A full disk,
        also when the workdir or its lock is made, raises DiskFull (one line; the lock is not left behind)."""
        try:
            make_workdir(workdir)
            with WorkdirLock(workdir, log):
                return self._train(workdir, log, overwrite)
        except Exception as e:
            if not is_out_of_space(e):
                raise
            # Toy runs keep no checkpoints: what is lost is this run's unfinished history (a rerun retrains).
            raise disk_full(workdir, None, "the run's history and metrics were not written") from None

    def _train(self, workdir: str, log: Callable[[str], None], overwrite: bool) -> Dict[str, object]:
        c = self.config
        resolved = save_config(workdir, settings.run_config(c, self.method.name, self.family), overwrite)
        name = f"{c.setting}/{self.method.name}"
        metrics_path = os.path.join(workdir, "metrics.json")
        if not overwrite and os.path.exists(metrics_path) and os.path.exists(os.path.join(workdir, "history.json")):
            saved = read_json(metrics_path, expect=dict)
            if saved.get("step") == c.num_steps:
                # Toy runs keep no checkpoints: a finished run's saved result is its result; another
                # --num_steps trains again from step 0.
                log(f"[{name}] the run in {workdir} is finished ({c.num_steps} steps); its saved results are kept.")
                return dict(saved, seconds=saved.get("train_seconds", 0.0), already_finished=True)
        writer = tf.summary.create_file_writer(os.path.join(workdir, "train"))
        write_config_text(writer, resolved, 0)
        history = defaultdict(list)
        progress_every = max(c.log_every, (c.num_steps // 10) // c.log_every * c.log_every)
        t0 = time.perf_counter()

        def record(step: int):
            values = dict(self.setting.metrics(c, self.game))
            values.update({k: float(v) for k, v in self._scalars(tf.constant(step, tf.int64)).items()})
            bad = next((k for k, v in values.items() if v is not None and not math.isfinite(v)), None)
            # Every spectrum_every steps, and at the last step: metrics.json's ζ and τ are the final parameters'.
            spectrum_now = c.spectrum_every and (step % c.spectrum_every == 0 or step == c.num_steps) and bad is None
            spectrum_now = spectrum_now and (step > 0 or c.get("spectrum_operator", "field") == "field")  # no step yet
            scatter = None
            if spectrum_now and self.setting.dense_jacobian:
                try:
                    s = self.spectrum(step)
                    values.update(zeta=_finite_or_none(s.zeta), tau=_finite_or_none(s.tau))
                except ValueError:                   # numpy's eigensolver refuses a non-finite Jacobian
                    bad = "the game Jacobian"
            elif spectrum_now:                       # too large for a dense Jacobian: Krylov (analysis/krylov.py)
                try:
                    scalars, result = self.krylov_spectrum(step)
                    values.update({k: _finite_or_none(v) for k, v in scalars.items()})
                    scatter = plots.eigenvalue_scatter_png(result.eigenvalues, result.converged, f"step {step}")
                except ArpackError:                  # ARPACK refuses products that overflowed to inf or NaN
                    bad = "the applied update's Jacobian"
            if bad is not None:
                # The history up to here is kept (non-finite values as null); no metrics.json: not finished.
                write_json(os.path.join(workdir, "history.json"),
                           {k: [v if v is None or math.isfinite(v) else None for v in vs] for k, vs in history.items()})
                raise NonFiniteError(f"[{name}] training stopped at step {step}: {bad} is not finite "
                                     f"(history.json holds the steps before).")
            history["step"].append(step)
            for key, value in values.items():
                history[key].append(value)
            with writer.as_default(step=step):
                for key, value in values.items():
                    if value is not None and math.isfinite(value):
                        tf.summary.scalar(key, value)
                if scatter is not None:
                    tf.summary.image("spectrum/eigenvalues", tf.io.decode_png(scatter)[None])
                if c.image_every and step % c.image_every == 0:
                    image = self.setting.image(c, self.game, step)
                    if image is not None:
                        tf.summary.image("samples", tf.image.decode_png(image["png"])[tf.newaxis])
                        np.savez_compressed(os.path.join(workdir, f"samples_{step:07d}.npz"),
                                            samples=image["samples"])
            if step % progress_every == 0 or step == c.num_steps:
                rate = step / max(time.perf_counter() - t0, 1e-9)
                shown = " ".join(f"{k}={v:.4g}" for k, v in values.items()
                                 if v is not None and not k.startswith(("loss", "grad", "reg")))
                log(f"[{name}] step {step}/{c.num_steps} ({100 * step // max(c.num_steps, 1)}%) {shown} "
                    f"({rate:,.0f} steps/s)")

        record(0)
        step = 0
        while step < c.num_steps:
            stop = min(c.num_steps, (step // c.log_every + 1) * c.log_every)
            done, flag = self._run_steps(tf.constant(step, tf.int64), tf.constant(stop, tf.int64))
            quantity = self.updater.non_finite_name(flag)
            if quantity is not None:
                raise NonFiniteError(f"[{name}] training stopped at step {int(done)}: {quantity} is not finite.")
            step = stop
            record(step)
        writer.flush()
        final = dict(step=c.num_steps, **self.setting.final_metrics(c, history))
        seconds = time.perf_counter() - t0
        write_json(os.path.join(workdir, "history.json"), dict(history))
        self.save_parameters(workdir)
        write_json(metrics_path, dict(final, train_seconds=seconds))    # metrics last: it marks the run finished
        return dict(final, seconds=seconds, already_finished=False)
