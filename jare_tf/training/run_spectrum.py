"""The spectrum of a jare-train run at one of its checkpoints (`jare-spectrum --workdir`): the run's own models
and method, the minibatch of the step analysed, the top-k Krylov eigenvalues of its applied update
(analysis/krylov.py) or, with operator="optimizer", of the linearised step of the run's optimizers at their
checkpointed slots (analysis/optimizer_step.py), and, with dense=True, the dense spectrum of the same operator
beside them."""

import os

import numpy as np

from jare_tf import settings


def of_workdir(workdir: str, step, k: int, which: str, dense: bool = False, operator: str = "field") -> dict:
    """The top-k Krylov eigenvalues of the applied update of a jare-train run (analysis/krylov.py) on the
    minibatch of the step analysed, with their residuals and the cost: an image run at one of its checkpoints,
    a toy run at its last step (parameters.npz). dense: also the dense spectrum of the same operator.
    operator="optimizer": of the linearised optimizer step M = D·J instead (image runs: their checkpoints hold
    the optimizers' slots), with the preconditioner's range, eta_max_momentum and stable_at_learning_rate."""
    from jare_tf.analysis import krylov
    op, at, source, stored, pre = operator_at(workdir, step, operator)
    result = krylov.eigenvalues(op, k=k, which=which)
    out = dict(result.to_json(), workdir=workdir, checkpoint=source, step=at, method=stored["method"]["name"],
               setting=stored.get("setting"), parameters=op.n, k=len(result.eigenvalues), k_asked=k, which=which,
               operator="matrix_free(applied update)" if pre is None else
               "matrix_free(linearised optimizer step)")
    if pre is not None:
        out.update(pre.summary(result.eigenvalues[result.converged]))
    if dense:
        out.update(dense_comparison(op, result, which))
    return out


def operator_at(workdir: str, step=None, operator: str = "field"):
    """(the matrix-free operator at `step`, the step, the checkpoint or parameters file it comes from, the stored
    config.json in settings.run_config's shape, the optimizer_step.Preconditioner or None): of the run's applied
    update, or (operator="optimizer") of its linearised optimizer step. Multi-stage methods take the
    discriminator's learning rate as their plain step, as the trainers' logged spectra do; the optimizer
    operator refuses them, toy runs (parameters.npz holds no optimizer slots) and step 0 (no step taken)."""
    from jare_tf.analysis import krylov, optimizer_step
    from jare_tf.training.workdir import read_json
    optimizer_step.check_operator(operator)
    path = os.path.join(workdir, "config.json")
    if not os.path.isdir(workdir):
        raise ValueError(f"--workdir={workdir} does not exist (or is not a folder).")
    if not os.path.exists(path):
        raise ValueError(f"--workdir={workdir} has no config.json: not a jare-train workdir.")
    stored = settings.upgraded(read_json(path))
    config, method = settings.from_saved(stored)
    if operator == "optimizer":
        optimizer_step.check_method(settings.make_method(config, method))
    if "architecture" not in stored:
        if operator == "optimizer":
            raise ValueError(f"--operator=optimizer: {workdir} is a toy run, whose parameters.npz holds the "
                             f"players' variables but not the optimizers' slots; its optimizer-step spectra are "
                             f"logged during training (--config.spectrum_every with "
                             f"--config.spectrum_operator=optimizer).")
        from jare_tf.training.toy_trainer import ToyRun
        if step is not None and step != config.num_steps:
            raise ValueError(f"--step={step}: {workdir} is a toy run, which keeps the parameters of its last step "
                             f"({config.num_steps}) only; leave --step out.")
        run = ToyRun.finished(workdir)
        batch, at, source = run.final_batch(), config.num_steps, os.path.join(workdir, "parameters.npz")
    else:
        run, batch, at, source = _image_run_at(workdir, config, method, step)
    pre = None
    if operator == "optimizer":
        pre = optimizer_step.preconditioner(run.model.updater.optimizers, run.game, run.method,
                                            where=f" at {source}")
    op = krylov.AppliedUpdate(run.method, run.game, batch, step_size=float(config.optimizer.d["learning_rate"]),
                              preconditioner=None if pre is None else pre.diagonal)
    return op, at, source, stored, pre


def dense_comparison(op, result, which: str) -> dict:
    """The dense spectrum of the same operator (its n columns) beside the Ritz values: for each converged Ritz
    value the distance to the nearest dense eigenvalue, relative to the largest |λ|."""
    from jare_tf.analysis import jacobian, krylov
    if op.n > jacobian.MAX_DENSE_PARAMETERS:
        raise ValueError(f"--dense: the run has {op.n:,} parameters; dense Jacobians are limited to "
                         f"{jacobian.MAX_DENSE_PARAMETERS:,}.")
    dense = np.linalg.eigvals(op.dense())
    scale = float(np.abs(dense).max())
    gaps = [float(np.min(np.abs(dense - lam)) / scale) for lam in result.eigenvalues]
    return {"dense_top": [[float(z.real), float(z.imag)] for z in krylov.top(dense, len(gaps), which)],
            "dense_max_abs": scale, "ritz_to_dense": gaps}


def _image_run_at(workdir: str, config, method: str, step):
    import tensorflow as tf

    from jare_tf.training.image_trainer import ImageRun
    checkpoints = os.path.join(workdir, "checkpoints")
    if step is None:
        prefix = tf.train.latest_checkpoint(checkpoints)
        if prefix is None:
            raise ValueError(f"--workdir={workdir} has no checkpoint yet.")
    else:
        prefix = os.path.join(checkpoints, f"ckpt-{step}")
        if not tf.io.gfile.exists(prefix + ".index"):
            have = sorted(int(p.split("-")[-1].split(".")[0]) for p in tf.io.gfile.glob(prefix[:-len(str(step))]
                                                                                        + "*.index"))
            raise ValueError(f"--step={step}: {workdir} has no checkpoint at that step (it has "
                             f"{', '.join(map(str, have)) or 'none'}).")
    run = ImageRun(config, method)
    run.model.checkpoint().restore(prefix).expect_partial()
    at = int(run.model.iteration.numpy())
    batch = {key: value[0] for key, value in next(iter(run.global_batches(at, at + 1))).items()}
    return run, batch, at, prefix
