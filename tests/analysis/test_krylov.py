"""The matrix-free operator of the applied update against the dense Jacobian (same method, same point), and its
Krylov eigenvalues against the dense eigenvalues."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.analysis import jacobian, krylov, problems
from jare_tf.games import Game
from jare_tf.models import toy


def mlp_game(width=8, seed=0):
    """A 2-D MLP game in float64 (G 3→width→2, D 2→width→1), away from any equilibrium: 83 parameters."""
    import keras
    keras.utils.set_random_seed(seed)
    g = toy.mlp(3, [width], 2, dtype="float64", name="generator", activation="tanh")
    d = toy.mlp(2, [width], 1, dtype="float64", name="discriminator", activation="tanh")
    rng = np.random.default_rng(seed)
    for v in g.trainable_variables + d.trainable_variables:
        v.assign(v.numpy() + 0.3 * rng.standard_normal(v.shape))
    batch = {"real": tf.constant(rng.standard_normal((16, 2)) + [1.0, -0.5]),
             "z": tf.constant(rng.standard_normal((16, 3)))}
    return Game(g, d), batch


CASES = {
    "isotropic_jare": lambda: (*problems.isotropic(4.0, 0.04, dim=3), methods.get("jare", gamma=10.0)),
    "dirac_r1": lambda: (*problems.dirac(), methods.get("r1", gamma=0.3)),
    "mlp_conopt": lambda: (*mlp_game(), methods.get("conopt", gamma=1.0)),
    "mlp_jare": lambda: (*mlp_game(), methods.get("jare", gamma=1.0)),
    "mlp_gan": lambda: (*mlp_game(), methods.get("gan")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_operator_and_its_transpose_are_the_dense_jacobian_applied(case):
    game, batch, method = CASES[case]()
    dense = jacobian.vector_field_jacobian(method, game, batch)
    op = krylov.AppliedUpdate(method, game, batch)
    rng = np.random.default_rng(1)
    scale = np.abs(dense).max()
    for _ in range(3):
        v = rng.standard_normal(op.n)
        np.testing.assert_allclose(op.matvec(v), dense @ v, rtol=0, atol=1e-11 * scale * np.abs(v).sum())
        np.testing.assert_allclose(op.rmatvec(v), dense.T @ v, rtol=0, atol=1e-11 * scale * np.abs(v).sum())


@pytest.mark.parametrize("case, which", [("mlp_conopt", "magnitude"), ("mlp_jare", "magnitude"),
                                         ("mlp_jare", "imaginary"), ("isotropic_jare", "magnitude"),
                                         ("dirac_r1", "magnitude")])
def test_krylov_eigenvalues_equal_the_dense_ones(case, which):
    """Tolerance: 1e-8 relative to the largest |λ| (ARPACK to machine precision; float64 games)."""
    game, batch, method = CASES[case]()
    dense = np.linalg.eigvals(jacobian.vector_field_jacobian(method, game, batch))
    op = krylov.AppliedUpdate(method, game, batch)
    k = min(10, op.n)
    result = krylov.eigenvalues(op, k=k, which=which)
    scale = np.abs(dense).max()
    assert result.converged.all() and result.residuals.max() <= 1e-8 * scale
    expected = krylov.top(dense, k, which)
    for lam in result.eigenvalues:       # each Ritz value is an eigenvalue of the dense Jacobian …
        assert np.min(np.abs(dense - lam)) <= 1e-8 * scale, (lam, expected)
    if which == "magnitude":             # … and the set is the k of largest magnitude
        np.testing.assert_allclose(np.sort(np.abs(result.eigenvalues)), np.sort(np.abs(expected)),
                                   rtol=0, atol=1e-8 * scale)
    else:                                # … with the largest imaginary part among them (ARPACK's "LI" finds the
        # extreme one reliably; the next ones converge more slowly, so only the extreme one is asserted)
        assert abs(result.eigenvalues.imag.max() - dense.imag.max()) <= 1e-8 * scale
    assert result.matvecs > 0 and np.isfinite(result.zeta)
    key = np.abs(result.eigenvalues) if which == "magnitude" else np.abs(result.eigenvalues.imag)
    assert np.all(np.diff(key) <= 1e-12 * scale)      # best first, as the table and the JSON list them


def test_a_multi_stage_method_is_its_update_operator_as_the_dense_analysis_has_it():
    """AltGD (n_d = 2): J = (∂F_h/∂w − I)/h, applied matrix-free, equals the dense update operator's to float64
    precision (1e-11 of the largest entry, as the single-stage fields; an h rounded through float32 was 1.5e-8 off)."""
    game, batch = problems.isotropic(3.0, 0.3, dim=2)
    method, h = methods.get("altgd", n_d=2), 0.05
    dense = (jacobian.update_operator_jacobian(method, game, batch, h) - np.eye(4)) / h
    op = krylov.AppliedUpdate(method, game, batch, step_size=h)
    v = np.random.default_rng(3).standard_normal(op.n)
    tol = 1e-11 * np.abs(dense).max() * np.abs(v).sum()
    np.testing.assert_allclose(op.matvec(v), dense @ v, rtol=0, atol=tol)
    np.testing.assert_allclose(op.rmatvec(v), dense.T @ v, rtol=0, atol=tol)
    with pytest.raises(ValueError, match="needs their step size"):
        krylov.AppliedUpdate(method, game, batch)


def test_a_krylov_run_that_stops_early_returns_the_pairs_it_has():
    """ARPACK out of iterations (maxiter=2) raises with the pairs it has: they come back, fewer than k, each a
    true eigenvalue of the dense Jacobian where its residual says it converged."""
    game, batch, method = CASES["mlp_jare"]()
    dense = np.linalg.eigvals(jacobian.vector_field_jacobian(method, game, batch))
    result = krylov.eigenvalues(krylov.AppliedUpdate(method, game, batch), k=10, maxiter=2)
    assert 0 < len(result.eigenvalues) < 10 and len(result.residuals) == len(result.eigenvalues)
    for lam in result.eigenvalues[result.converged]:
        assert np.min(np.abs(dense - lam)) <= 1e-8 * np.abs(dense).max()


def test_bad_arguments_are_refused():
    game, batch = problems.dirac()
    op = krylov.AppliedUpdate(methods.get("jare", gamma=1.0), game, batch)
    with pytest.raises(ValueError, match="--which"):
        krylov.eigenvalues(op, which="smallest")


def test_krylov_and_dense_spectra_agree_on_a_trained_mog_numerics_run(tmp_path):
    """mog_numerics (2,003 parameters, float32) after 100 SimGD steps, as `jare-spectrum --workdir --k=20
    --dense` analyses it: the top 20 Krylov eigenvalues by magnitude are the dense spectrum's top 20, each within
    1e-6·max|λ| (float32 products carry ≈ 1e-7 relative noise) and converged (residual ≤ √ε₃₂·max|λ|). A toy run
    keeps only its last step."""
    from jare_tf import settings
    from jare_tf.training import run_spectrum
    from jare_tf.training.toy_trainer import ToyRun
    config = settings.load("mog_numerics")
    config.num_steps, config.image_every = 100, 0
    workdir = str(tmp_path / "mog_numerics_gan")
    ToyRun(config, "gan").train(workdir, log=lambda s: None)
    result = run_spectrum.of_workdir(workdir, None, 20, "magnitude", dense=True)
    assert result["parameters"] == 2003 and result["step"] == 100 and result["checkpoint"].endswith("parameters.npz")
    ritz = np.array([complex(re, im) for re, im in result["eigenvalues"]])
    dense = np.array([complex(re, im) for re, im in result["dense_top"]])
    assert all(result["converged"]) and len(ritz) == 20
    assert max(result["ritz_to_dense"]) <= 1e-6
    for lam in dense:                       # the dense top 20 are the Ritz values, one for one
        assert np.min(np.abs(ritz - lam)) <= 1e-6 * result["dense_max_abs"], (lam, ritz)
    with pytest.raises(ValueError, match=r"keeps the parameters of its last step \(100\) only"):
        run_spectrum.of_workdir(workdir, 50, 20, "magnitude")


@pytest.mark.parametrize("case", ["isotropic_jare", "dirac_r1"])
def test_dense_from_the_operator_equals_the_reverse_mode_jacobian(case):
    """AppliedUpdate.dense (forward-mode columns, 4 per chunk, the last padded to the same shape) is the
    reverse-mode dense Jacobian (6 and 2 parameters)."""
    game, batch, method = CASES[case]()
    op = krylov.AppliedUpdate(method, game, batch)
    np.testing.assert_allclose(op.dense(chunk=4), jacobian.vector_field_jacobian(method, game, batch),
                               rtol=0, atol=1e-11)
