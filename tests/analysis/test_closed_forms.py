"""The autodiff Jacobian of each method against the papers' closed forms (float64, exact expectations)."""

import numpy as np
import pytest

from jare_tf import methods
from jare_tf.analysis import closed_forms as cf
from jare_tf.analysis import jacobian, problems, spectrum


def eig_close(actual, expected, rtol=1e-9):
    """Each expected eigenvalue has a distinct match within rtol of its own magnitude."""
    actual = list(np.asarray(actual, complex))
    for e in np.asarray(expected, complex):
        k = int(np.argmin([abs(a - e) for a in actual]))
        assert abs(actual[k] - e) <= rtol * max(abs(e), 1e-12), (actual, expected)
        actual.pop(k)


def isotropic_jacobian(method, gamma, sigma2, mu, dim=2):
    game, batch = problems.isotropic(mu, sigma2, dim)
    return jacobian.vector_field_jacobian(methods.get(method, gamma=gamma), game, batch)


def test_theorem1_simgd():
    eig_close(np.linalg.eigvals(isotropic_jacobian("gan", 0, 0.04, 4)), cf.theorem1_eigenvalues(0.04, 4))
    # The values the paper's Fig. 1 setting gives (σ² = 0.04, μ = 4), computed by hand from Theorem 1.
    eig_close(cf.theorem1_eigenvalues(0.04, 4),
              [-0.01 + 0.49989999j, -0.01 - 0.49989999j, -0.03129418, -7.98870582], rtol=1e-7)


def test_theorem3_jare():
    eig_close(np.linalg.eigvals(isotropic_jacobian("jare", 10, 0.04, 4)), cf.theorem3_eigenvalues(0.04, 4, 10))
    eig_close(cf.theorem3_eigenvalues(0.04, 4, 10), [-2.51 + 0.4471017781j, -2.51 - 0.4471017781j, -0.52, -12.5])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["gan", "gen_only", "conopt", "disc_only", "jare"])
def test_regularised_jacobian_is_gamma_times_a(method, seed):
    """Γ·A of Sec. 5.1 / 6 for any σ² in (0, 2), μ > 1, γ > 0, and in more than two dimensions."""
    rng = np.random.default_rng(seed)
    sigma2, mu, gamma = rng.uniform(0.01, 1.99), rng.uniform(1.01, 8), rng.uniform(0.05, 50)
    dim = 2 + seed % 2
    a = isotropic_jacobian(method, gamma, sigma2, mu, dim)
    v = np.zeros(dim)
    v[-1] = mu
    blocks = cf.isotropic_hessian_blocks(sigma2, v)
    expected = cf.regularisation_matrix(method, blocks, gamma) @ cf.simgd_jacobian(blocks)
    np.testing.assert_allclose(a, expected, atol=1e-10 * max(1.0, np.abs(expected).max()))
    eig_close(np.linalg.eigvals(a), np.linalg.eigvals(expected), rtol=1e-6)
    if method == "jare" and dim == 2:
        eig_close(np.linalg.eigvals(a), cf.theorem3_eigenvalues(sigma2, mu, gamma), rtol=1e-6)


@pytest.mark.parametrize("gamma", [0.3, 2.0, 10.0, 75.0])
def test_extrapolation_has_jares_jacobian(gamma):
    """Sec. 8: extrapolating by γ gives JARE(γ)'s Jacobian at the equilibrium (not JARE(γ/2))."""
    ext = isotropic_jacobian("extrapolation", gamma, 0.3, 3.0, dim=3)
    np.testing.assert_allclose(ext, isotropic_jacobian("jare", gamma, 0.3, 3.0, dim=3), atol=1e-10 * gamma)
    assert np.abs(ext - isotropic_jacobian("jare", gamma / 2, 0.3, 3.0, dim=3)).max() > 1e-3


def test_jare_eta_max_matches_the_paper():
    for sigma2, mu, gamma in [(0.04, 4, 10), (0.5, 2, 1), (0.01, 6, 100)]:
        s = spectrum.analyse(isotropic_jacobian("jare", gamma, sigma2, mu))
        np.testing.assert_allclose(s.eta_max, cf.jare_eta_max(sigma2, mu, gamma), rtol=1e-9)
    # Outside Theorem 3's regime (λ1,2 real at γ = 100, σ² = 0.25) the paper's formula is not a bound.
    with pytest.raises(ValueError, match="jare_eta_max holds for"):
        cf.jare_eta_max(0.25, 6, 100)


def test_corollary_3():
    """ζ falls as γ grows (to 0); τ = |λ3/λ4| of the β² pair falls for γ ≥ 2 and tends to 1."""
    sigma2, mu = 0.04, 4.0
    gammas = [0.5, 1, 2, 3, 5, 10, 30, 100, 1000, 1e5, 1e10]
    zetas, taus = [], []
    for g in gammas:
        a = isotropic_jacobian("jare", g, sigma2, mu)
        zetas.append(spectrum.analyse(a).zeta)
        # v = [0, μ]: the (φ2, θ2) block carries the β² pair, (φ1, θ1) the σ² pair.
        beta_pair = np.linalg.eigvals(a[np.ix_([1, 3], [1, 3])])
        taus.append(max(abs(beta_pair)) / min(abs(beta_pair)))
    assert all(z1 > z2 for z1, z2 in zip(zetas, zetas[1:]) if z1 > 0), zetas
    assert zetas[-1] == 0.0                       # no complex eigenvalues left
    big = [t for g, t in zip(gammas, taus) if g >= 2]
    assert all(t1 > t2 for t1, t2 in zip(big, big[1:])), taus
    assert abs(taus[-1] - 1) < 1e-3            # τ − 1 ≈ 4√(2β²/γ) for large γ


DIRAC = [
    ("gan", {}, cf.dirac_simgd()),
    ("jare", {"gamma": 1.0}, cf.dirac_jare(1.0)),
    ("jare", {"gamma": 3.0}, cf.dirac_jare(3.0)),
    ("conopt", {"gamma": 1.0}, cf.dirac_jare(1.0)),
    ("conopt", {"gamma": 2.5}, cf.dirac_jare(2.5)),
    ("r1", {"gamma": 0.3}, cf.dirac_gradient_penalty(0.3)),
    ("r1", {"gamma": 2.0}, cf.dirac_gradient_penalty(2.0)),
    ("r2", {"gamma": 0.3}, cf.dirac_gradient_penalty(0.3)),
    ("r2", {"gamma": 1.5}, cf.dirac_gradient_penalty(1.5)),
    ("instance_noise", {"std": 0.7}, cf.dirac_instance_noise(0.7)),
    ("instance_noise", {"std": 2.5}, cf.dirac_instance_noise(2.5)),
]


@pytest.mark.parametrize("method, options, expected", DIRAC)
def test_dirac_gan_eigenvalues(method, options, expected):
    m = methods.get(method, **options)
    game, batch = problems.dirac()
    a = jacobian.vector_field_jacobian(m, game, problems.with_expected_inputs(m, batch))
    eig_close(np.linalg.eigvals(a), expected, rtol=1e-9)


def test_closed_form_values_by_hand():
    """Spot values of the closed forms themselves, worked out by hand."""
    eig_close(cf.dirac_simgd(), [0.5j, -0.5j])
    eig_close(cf.dirac_jare(2.0), [-0.5 + 0.5j, -0.5 - 0.5j])
    eig_close(cf.dirac_gradient_penalty(1.0), [-0.5, -0.5])          # γ_critical = 2|f′(0)| = 1
    eig_close(cf.dirac_instance_noise(2.0), [-1 + np.sqrt(0.75), -1 - np.sqrt(0.75)])
