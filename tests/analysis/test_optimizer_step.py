"""The linearised optimizer step (analysis/optimizer_step.py): the preconditioner against the factor Keras' Adam,
RMSProp and SGD really applied, the Krylov values of M = D·J against the dense eigenvalues of D times the
reverse-mode Jacobian, M = J when D = I (and c·J when D = c·I), the momentum bound against the spectral radius of
the 2n-dimensional linearised Adam iteration built from Adam's equations, and the refusals."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import config_checks, methods
from jare_tf.analysis import jacobian, krylov, optimizer_step, problems
from jare_tf.games.game import Players
from jare_tf.training import optimizers
from jare_tf.training.updater import Updater
from tests.conftest import small_mlp_game


def adam(lr, beta_1=0.5, beta_2=0.99):
    return {"name": "adam", "learning_rate": lr, "beta_1": beta_1, "beta_2": beta_2, "epsilon": 1e-8}


def trained(method, specs, steps=3):
    """The small float64 MLP game (53 parameters) after `steps` optimizer steps on its fixed minibatch."""
    game, batch = small_mlp_game()
    opts = optimizers.for_players(*specs)
    updater = Updater(method, game, opts)
    for _ in range(steps):
        updater.step(lambda k: batch)
    return game, batch, opts, updater


@pytest.mark.parametrize("specs", [
    (adam(2e-3, beta_1=0.0), adam(1e-3, beta_1=0.0)),
    ({"name": "rmsprop", "learning_rate": 2e-3}, {"name": "rmsprop", "learning_rate": 1e-3}),
    ({"name": "sgd", "learning_rate": 2e-3}, {"name": "sgd", "learning_rate": 1e-3}),
], ids=["adam", "rmsprop", "sgd"])
def test_the_preconditioner_is_the_factor_the_optimizers_applied_on_the_last_step(specs):
    """D = diag(r·P) read from the slots after step t is −Δw/(η·u) of that step, as Keras took it (Adam with
    β₁ = 0, so the step is u itself; G's learning rate twice D's: r_g = 2). Tolerance 1e-6 relative: the
    learning rates are float32 in Keras, rounded to their shortest decimal in D's ratio."""
    game, batch, opts, updater = trained(methods.get("gan"), specs, steps=2)
    method = methods.get("gan")
    u = jacobian.flatten(method.directions(game, game.params(), game.state(), batch).updates).numpy()
    before = jacobian.flatten(game.params()).numpy()
    updater.step(lambda k: batch)
    applied = -(jacobian.flatten(game.params()).numpy() - before) / (1e-3 * u)
    pre = optimizer_step.preconditioner(opts, game, method)
    assert pre.iterations == 3 and pre.ratios == (2.0, 1.0) and pre.learning_rate == 1e-3
    np.testing.assert_allclose(pre.diagonal, applied, rtol=1e-6)
    if specs[0]["name"] == "sgd":
        assert pre.momentum == 0.0 and np.all(pre.diagonal[:pre.sizes[0]] == 2.0)


@pytest.mark.parametrize("name, which", [("jare", "magnitude"), ("conopt", "magnitude"), ("gan", "imaginary")])
def test_krylov_values_of_the_optimizer_step_are_the_eigenvalues_of_D_times_the_dense_jacobian(name, which):
    """After 3 Adam steps (β = (0.5, 0.99), G's learning rate twice D's): the operator and its transpose are
    diag(D)·A and Aᵀ·diag(D) applied (A the reverse-mode dense Jacobian, jacobian.py) to 1e-11 of the largest
    entry, and the top 10 Ritz values are eigenvalues of diag(D)·A to 1e-8·max|λ| (float64, ARPACK to machine
    precision), the 10 of largest magnitude (or the largest imaginary part)."""
    method = methods.get(name, **({} if name == "gan" else {"gamma": 1.0}))
    game, batch, opts, _ = trained(method, (adam(2e-3), adam(1e-3)))
    pre = optimizer_step.preconditioner(opts, game, method)
    m = pre.diagonal[:, None] * jacobian.vector_field_jacobian(method, game, batch)
    op = krylov.AppliedUpdate(method, game, batch, preconditioner=pre.diagonal)
    v = np.random.default_rng(2).standard_normal(op.n)
    tol = 1e-11 * np.abs(m).max() * np.abs(v).sum()
    np.testing.assert_allclose(op.matvec(v), m @ v, rtol=0, atol=tol)
    np.testing.assert_allclose(op.rmatvec(v), m.T @ v, rtol=0, atol=tol)
    dense = np.linalg.eigvals(m)
    scale = np.abs(dense).max()
    result = krylov.eigenvalues(op, k=10, which=which)
    assert result.converged.all() and result.residuals.max() <= 1e-8 * scale
    for lam in result.eigenvalues:
        assert np.min(np.abs(dense - lam)) <= 1e-8 * scale, lam
    if which == "magnitude":
        np.testing.assert_allclose(np.sort(np.abs(result.eigenvalues)),
                                   np.sort(np.abs(krylov.top(dense, 10, which))), rtol=0, atol=1e-8 * scale)
    else:
        assert abs(result.eigenvalues.imag.max() - dense.imag.max()) <= 1e-8 * scale


def set_slots(optimizer, variables, name, value, iterations):
    for v in variables:
        getattr(optimizer, name)[optimizer._get_variable_index(v)].assign(tf.fill(v.shape, tf.constant(value,
                                                                                                    v.dtype)))
    optimizer.iterations.assign(iterations)


def test_with_P_the_identity_the_optimizer_step_is_the_field_and_with_c_times_the_identity_c_times_it():
    """Adam's second moment set so that P = √(1 − β₂ᵗ)/(√v + ε) = 1 (t = 7, equal learning rates): the top 8
    Ritz values of the optimizer step are the field's to 1e-9·max|λ| (P = 1 up to the rounding of (√·)²); the
    reference RMSProp's accumulator set to 1/c² − ε (P = c = 0.3, learning rate of G 2× D's: D = c·diag(2, 1))
    gives the dense eigenvalues of c·diag(2·I, I)·A; SGD with equal learning rates is D = I exactly."""
    method = methods.get("jare", gamma=1.0)
    game, batch = small_mlp_game()
    field = krylov.eigenvalues(krylov.AppliedUpdate(method, game, batch), k=8)
    scale = np.abs(field.eigenvalues).max()

    opts = optimizers.for_players(adam(1e-3), adam(1e-3))
    Updater(method, game, opts)                        # builds the slots
    t, beta_2, eps = 7, 0.99, 1e-8
    for opt, vs in zip(opts, game.variables()):
        set_slots(opt, vs, "_velocities", (np.sqrt(1 - beta_2 ** t) - eps) ** 2, t)
    pre = optimizer_step.preconditioner(opts, game, method)
    np.testing.assert_allclose(pre.diagonal, 1.0, rtol=1e-12)
    step = krylov.eigenvalues(krylov.AppliedUpdate(method, game, batch, preconditioner=pre.diagonal), k=8)
    np.testing.assert_allclose(step.eigenvalues, field.eigenvalues, rtol=0, atol=1e-9 * scale)
    assert step.zeta == pytest.approx(field.zeta, rel=1e-9)

    c = 0.3
    opts = optimizers.for_players({"name": "rmsprop", "learning_rate": 2e-3}, {"name": "rmsprop",
                                                                             "learning_rate": 1e-3})
    Updater(method, game, opts)
    for opt, vs in zip(opts, game.variables()):
        set_slots(opt, vs, "_velocities", 1 / c ** 2 - 1e-10, 5)
    pre = optimizer_step.preconditioner(opts, game, method)
    n_g = pre.sizes[0]
    np.testing.assert_allclose(pre.diagonal[:n_g], 2 * c, rtol=1e-12)
    np.testing.assert_allclose(pre.diagonal[n_g:], c, rtol=1e-12)
    expected = np.linalg.eigvals(c * np.diag([2.0] * n_g + [1.0] * (pre.diagonal.size - n_g))
                                 @ jacobian.vector_field_jacobian(method, game, batch))
    step = krylov.eigenvalues(krylov.AppliedUpdate(method, game, batch, preconditioner=pre.diagonal), k=8)
    for lam in step.eigenvalues:
        assert np.min(np.abs(expected - lam)) <= 1e-9 * np.abs(expected).max()

    opts = optimizers.for_players({"name": "sgd", "learning_rate": 0.1}, {"name": "sgd", "learning_rate": 0.1})
    Updater(method, game, opts)
    pre = optimizer_step.preconditioner(opts, game, method)
    assert np.all(pre.diagonal == 1.0) and pre.momentum == 0.0


def linearised_adam(a, d, beta, c, eta):
    """The Jacobian of one Adam step in (δw, δm) with the preconditioner d held fixed, written from Adam's
    equations m' = β·m + (1 − β)·u(w), w' = w − η·c·d·m', with ∂u/∂w = −A:
    [[I + η·c·(1 − β)·diag(d)·A, −η·c·β·diag(d)], [−(1 − β)·A, β·I]]."""
    n = a.shape[0]
    dd = np.diag(d)
    return np.block([[np.eye(n) + eta * c * (1 - beta) * dd @ a, -eta * c * beta * dd],
                     [-(1 - beta) * a, beta * np.eye(n)]])


@pytest.mark.parametrize("case", ["dirac_r1", "isotropic_jare"])
def test_the_momentum_bound_is_the_stability_edge_of_the_linearised_adam_iteration(case):
    """At a stable equilibrium (Dirac-GAN with R1, γ = 0.3; the isotropic example with JARE, γ = 10) and a
    positive diagonal D, the 2n-dimensional linearised Adam step (β₁ = 0.5, c = 1/(1 − β₁ᵗ) at t = 3) has
    spectral radius < 1 at 0.99·η_max^β and > 1 at 1.01·η_max^β, with η_max^β from M's n eigenvalues alone.
    Momentum-free (β = 0, gain 1) the bound is spectrum.max_step_size's."""
    from jare_tf.analysis import spectrum
    if case == "dirac_r1":
        game, batch = problems.dirac()
        method = methods.get("r1", gamma=0.3)
    else:
        game, batch = problems.isotropic(4.0, 0.04, dim=2)
        method = methods.get("jare", gamma=10.0)
    a = jacobian.vector_field_jacobian(method, game, batch)
    d = np.random.default_rng(5).uniform(0.5, 2.0, a.shape[0])
    m_op = d[:, None] * a
    lam = np.linalg.eigvals(m_op)
    assert np.all(lam.real < 0)
    beta, t = 0.5, 3
    c = 1 / (1 - beta ** t)
    bound = optimizer_step.momentum_step_bound(lam, beta, (1 - beta) * c)
    assert 0 < bound < np.inf
    radius = [spectrum.spectral_radius(linearised_adam(a, d, beta, c, f * bound)) for f in (0.99, 1.01)]
    assert radius[0] < 1 < radius[1], radius
    assert optimizer_step.momentum_step_bound(lam, 0.0, 1.0) == pytest.approx(spectrum.max_step_size(lam),
                                                                              rel=1e-12)
    assert optimizer_step.momentum_step_bound(np.array([1j, -1.0]), beta, 1.0) == 0.0    # Re λ = 0: no step
    assert np.isnan(optimizer_step.momentum_step_bound(np.array([]), beta, 1.0))


def test_training_summary_logs_the_optimizer_step_with_its_momentum_bound():
    """The logged spectrum with operator="optimizer": the scalars of the field's summary plus eta_max_momentum,
    equal to the bound over the converged Ritz values of M; an unknown operator is refused by name."""
    method = methods.get("jare", gamma=1.0)
    game, batch, opts, _ = trained(method, (adam(1e-3), adam(1e-3)))
    scalars, result = krylov.training_summary(method, game, batch, 4, 1e-3, "optimizer", opts)
    pre = optimizer_step.preconditioner(opts, game, method)
    good = result.eigenvalues[result.converged]
    assert scalars["spectrum/converged"] == 4
    assert scalars["spectrum/eta_max_momentum"] == optimizer_step.momentum_step_bound(good, 0.5, pre.gain)
    dense = np.linalg.eigvals(pre.diagonal[:, None] * jacobian.vector_field_jacobian(method, game, batch))
    assert scalars["spectrum/max_abs"] == pytest.approx(np.abs(dense).max(), rel=1e-8)
    with pytest.raises(ValueError, match=r"--config.spectrum_operator='hessian': choose one of field, optimizer"):
        krylov.training_summary(method, game, batch, 4, 1e-3, "hessian", opts)


def test_bad_input_is_refused_in_one_line():
    """Optimizers that took no step (a fresh Adam, iteration count 0), a multi-stage method (AltGD; WGAN with
    n_d = 2) and a preconditioner of the wrong length are refused with the reason; extrapolation, one optimizer
    step on its look-ahead directions, is accepted."""
    game, batch = small_mlp_game()
    gan = methods.get("gan")
    opts = optimizers.for_players(adam(1e-3), adam(1e-3))
    Updater(gan, game, opts)
    with pytest.raises(ValueError) as e:
        optimizer_step.preconditioner(opts, game, gan, where=" at ckpt-0")
    assert "generator optimizer (Adam) at ckpt-0 has taken no step (iteration count 0" in str(e.value)
    for method, stages in ((methods.get("altgd"), "d×1, g×1"), (methods.get("wgan", n_d=2), "d×2, g×1")):
        with pytest.raises(ValueError) as e:
            optimizer_step.check_method(method)
        message = str(e.value)
        assert "\n" not in message and f"updates in stages ({stages})" in message, message
        with pytest.raises(ValueError, match="updates in stages"):
            krylov.AppliedUpdate(method, game, batch, step_size=0.1, preconditioner=np.ones(53))
    with pytest.raises(ValueError, match=r"preconditioner has shape \(3,\); the game has 53"):
        krylov.AppliedUpdate(gan, game, batch, preconditioner=np.ones(3))
    extrapolation = methods.get("extrapolation", gamma=0.1)
    optimizer_step.check_method(extrapolation)
    op = krylov.AppliedUpdate(extrapolation, game, batch, preconditioner=np.full(53, 2.0))
    plain = krylov.AppliedUpdate(extrapolation, game, batch)
    v = np.random.default_rng(0).standard_normal(53)
    np.testing.assert_allclose(op.matvec(v), 2.0 * plain.matvec(v), rtol=1e-12)


def test_the_operator_names_checked_before_tensorflow_are_the_analysis_own():
    assert config_checks.SPECTRUM_OPERATORS == optimizer_step.OPERATORS


def test_toy_runs_log_the_optimizer_step_from_the_first_step_on(tmp_path):
    """spectrum_operator="optimizer" in the toy trainer. The isotropic example (dense spectra, SGD with G's
    learning rate twice D's, so D = diag(2·I, I)): metrics.json's ζ and τ are those of diag(2, 2, 1, 1)·A at the
    final parameters and minibatch (A reverse-mode, jacobian.py), 1e-6 relative. MoG (Krylov, RMSProp, 4 steps):
    spectra at steps 2 and 4, none at step 0 (no second moment yet), the last one's max|λ| that of D·A from the
    run's own optimizers and the last minibatch (dense, 1e-5 relative: float32)."""
    import json

    from jare_tf import settings
    from jare_tf.analysis import spectrum
    from jare_tf.training.toy_trainer import ToyRun
    c = settings.load("isotropic")
    c.num_steps, c.log_every, c.spectrum_every, c.spectrum_operator = 4, 2, 2, "optimizer"
    c.optimizer.g = dict(c.optimizer.g, learning_rate=2 * c.optimizer.d["learning_rate"])
    run = ToyRun(c, "jare")
    run.train(str(tmp_path / "iso"), log=lambda s: None)
    metrics = json.load(open(tmp_path / "iso" / "metrics.json"))
    history = json.load(open(tmp_path / "iso" / "history.json"))
    a = jacobian.vector_field_jacobian(run.method, run.game, run.final_batch())
    expected = spectrum.analyse(np.diag([2.0] * (a.shape[0] // 2) + [1.0] * (a.shape[0] // 2)) @ a)
    assert history["step"] == [0, 2, 4] and len(history["zeta"]) == 2
    np.testing.assert_allclose([metrics["zeta"], metrics["tau"]], [expected.zeta, expected.tau], rtol=1e-6)
    assert not np.isclose(metrics["tau"], spectrum.analyse(a).tau, rtol=1e-3)      # not the field's

    c = settings.load("mog_numerics")
    c.num_steps, c.log_every, c.spectrum_every, c.spectrum_k, c.image_every = 4, 2, 2, 4, 0
    c.model.widths, c.batch_size, c.data.eval_samples, c.spectrum_operator = (8, 8), 32, 200, "optimizer"
    run = ToyRun(c, "gan")
    run.train(str(tmp_path / "mog"), log=lambda s: None)
    history = json.load(open(tmp_path / "mog" / "history.json"))
    assert history["step"] == [0, 2, 4] and len(history["spectrum/max_abs"]) == 2
    pre = optimizer_step.preconditioner(run.optimizers, run.game, run.method)
    assert pre.names == ("rmsprop", "rmsprop") and pre.iterations == 4
    dense = np.linalg.eigvals(pre.diagonal[:, None] * jacobian.vector_field_jacobian(run.method, run.game,
                                                                                     run.final_batch()))
    assert history["spectrum/max_abs"][-1] == pytest.approx(np.abs(dense).max(), rel=1e-5)
