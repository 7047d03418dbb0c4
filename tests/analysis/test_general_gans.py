"""Sec. 6 of the JARE paper on the linear-Gaussian game (analysis/general_gans.py): Lemma 3's blocks against the
autodiff Jacobian, Theorem 4's form, the extreme cases after it and Theorem 5's limit, each against a derivation
that shares no code with the autodiff side (hand-derived gradients and Gauss–Hermite sums, closed forms)."""

import numpy as np
import pytest

from jare_tf import methods
from jare_tf.analysis import closed_forms, general_gans as gg, jacobian, spectrum

# d = 2 with a correlated Σ and a discriminator whitening with another covariance (so Q is a full matrix),
# d = 3 with the reverse-KL loss, d = 1 with WGAN (Q = 0).
GAMES = {
    "correlated": gg.LinearGaussian([0.5, 2.0], [[1.0, 0.3], [0.3, 0.5]], latent_variance=1.0, disc_scale=0.7,
                                    disc_cov=[[2.0, 0.1], [0.1, 1.0]]),
    "reverse_kl_3d": gg.LinearGaussian([0.0, -1.0, 3.0], np.diag([0.4, 1.0, 2.5]), latent_variance=0.8,
                                       disc_scale=1.3, family="reverse_kl"),
    "wgan_1d": gg.LinearGaussian([1.0], [[0.3]], latent_variance=2.0, family="wgan"),
    # Q = 0 with an anisotropic P: purely imaginary eigenvalues whose real parts are rounding only.
    "wgan_2d": gg.LinearGaussian([0.3, -1.0], [[0.3, 0.1], [0.1, 2.0]], latent_variance=0.9, disc_scale=1.5,
                                 disc_cov=[[1.0, -0.2], [-0.2, 0.5]], family="wgan"),
    # λ(Q) ≈ 1e6·λ(PᵀP)^½: repeated real eigenvalues ~1e-6·max|λ|, split by rounding into near-real pairs.
    "stiff_3d": gg.LinearGaussian.balanced(3, 1.0, 1000.0, mu=4.0),
}


def simgd(spec):
    game, batch = spec.game()
    return jacobian.vector_field_jacobian(methods.get("gan"), game, batch)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_lemma3_blocks_of_the_autodiff_jacobian_equal_eq_9(name):
    spec = GAMES[name]
    p, q = spec.lemma3_formulas()
    a = simgd(spec)
    n, m = spec.sizes
    assert a.shape == (n + m, n + m) and p.shape == (n, m)
    errors = gg.lemma3_errors(a, p, q)
    assert max(errors.values()) <= 1e-12, errors
    if spec.family == "wgan":
        assert not q.any() and np.abs(a[n:, n:]).max() == 0.0      # the paper: Q = 0 for WGAN


def test_eq_9_equals_the_closed_form_of_the_aligned_isotropic_game():
    """Σ = Σ_D = σ²I: Q = (g1″ + g2″)s²I and PᵀP = g2′²s²/σ²·diag(I_d, 2κ²I), derived by hand (module docstring);
    P has orthogonal columns, one per feature."""
    d, sigma2, s, kappa2 = 3, 0.7, 1.3, 0.8
    spec = gg.LinearGaussian(np.arange(d, dtype=float), sigma2 * np.eye(d), kappa2, s)
    p, q = spec.lemma3_formulas()
    g = closed_forms.LOSS_DERIVATIVES["vanilla"]
    np.testing.assert_allclose(q, (g["g1pp"] + g["g2pp"]) * s ** 2 * np.eye(q.shape[0]), atol=1e-13)
    expected = g["g2p"] ** 2 * s ** 2 / sigma2 * np.diag([1.0] * d + [2 * kappa2] * (d * (d + 1) // 2))
    np.testing.assert_allclose(p.T @ p, expected, atol=1e-13)


def test_the_exact_batch_has_the_gaussian_moments_up_to_degree_five():
    z = gg.exact_points(2)
    assert z.shape == (36, 2)
    np.testing.assert_allclose(np.mean(z ** 2, axis=0), 1.0, atol=1e-14)
    np.testing.assert_allclose(np.mean(z ** 4, axis=0), 3.0, atol=1e-13)            # E z⁴ = 3
    np.testing.assert_allclose(np.mean(z[:, 0] ** 2 * z[:, 1] ** 2), 1.0, atol=1e-14)
    np.testing.assert_allclose(np.mean(z ** 3, axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(np.mean(z ** 5, axis=0), 0.0, atol=1e-13)


@pytest.mark.parametrize("name", ["correlated", "reverse_kl_3d", "wgan_2d", "stiff_3d"])
def test_theorem_4_form_holds_and_the_check_can_fail(name):
    """Each eigenvalue's distance from the form over its |λ|, less rounding: ≤ 1e-13 whatever the scales, also
    when Q = 0 (WGAN) or λ(Q) ≫ λ(PᵀP); and a wrong eigenvalue reads large even when it is small beside the others."""
    spec = GAMES[name]
    p, q = spec.lemma3_formulas()
    lam = np.linalg.eigvals(simgd(spec))
    result = gg.theorem4_violation(lam, q, p.T @ p)
    assert result["violation"] <= 1e-13, result
    assert gg.theorem4_violation(np.array([]), q, p.T @ p)["violation"] == 0.0
    n, m = spec.sizes
    # The zero eigenvalues are the y2 = 0 case of the proof: y1 in the null space of Pᵀ, i.e. the rotations
    # A → AR (R orthogonal), which leave p_φ unchanged: n − rank P = d(d − 1)/2 of them.
    assert result["zero_eigenvalues"] == n - np.linalg.matrix_rank(p) == spec.dim * (spec.dim - 1) // 2
    top = np.abs(lam).max()
    nonzero = np.abs(lam) > 1e-9 * top
    moved = np.where(nonzero, lam + 0.1 * top, lam)                # shifted right by 0.1·max|λ|
    assert gg.theorem4_violation(moved, q, p.T @ p)["violation"] > 1e-3
    scaled = np.where(nonzero, lam * 1.5, lam)                     # eigenvalues of a game with another Q and P
    assert gg.theorem4_violation(scaled, q, p.T @ p)["violation"] > 0.3
    small = nonzero & (np.abs(lam) < 1e-3 * top)
    if small.any():                                                # stiff_3d: only its small eigenvalues wrong
        assert gg.theorem4_violation(np.where(small, -lam, lam), q, p.T @ p)["violation"] > 1.9   # unstable
        assert gg.theorem4_violation(np.where(small, lam + 0.6j * np.abs(lam), lam), q, p.T @ p)["violation"] > 0.3


def test_scalar_case_eigenvalues_for_simgd_and_jare():
    """Q = qI and PᵀP = pI: SimGD's nonzero eigenvalues are (q ± √(q² − 4p))/2 and JARE's solve
    λ² − (q − 2γp)λ + γ²p² + p = 0, each with multiplicity m."""
    spec = gg.LinearGaussian.balanced(dim=2, sigma2=0.6, disc_scale=0.9, mu=1.5)
    p, q = spec.lemma3_formulas()
    qq, pp = q[0, 0], (p.T @ p)[0, 0]
    game, batch = spec.game()
    for gamma, expected in ((0.0, gg.scalar_simgd_eigenvalues(qq, pp)),
                            (3.0, gg.scalar_jare_eigenvalues(qq, pp, 3.0))):
        method = methods.get("jare", gamma=gamma) if gamma else methods.get("gan")
        lam = spectrum.nonzero(np.linalg.eigvals(jacobian.vector_field_jacobian(method, game, batch)))
        assert lam.size == 2 * spec.sizes[1]
        for l in lam:
            assert np.min(np.abs(expected - l)) <= 1e-7 * np.abs(expected).max(), (l, expected)


@pytest.mark.parametrize("scale, key", [(0.2, "zeta"), (0.1, "zeta"), (20.0, "tau"), (50.0, "tau")])
def test_extreme_cases_after_theorem_4(scale, key):
    """Case 1 (c ≫ 1): ζ = √(c − 1); case 2 (c′ ≪ 1): τ = (√(1/c′) + √(1/c′ − 1))², c = 4/(σ²s²) here."""
    spec = gg.LinearGaussian.balanced(dim=2, sigma2=1.0, disc_scale=scale)
    p, q = spec.lemma3_formulas()
    cases = gg.extreme_cases(q, p.T @ p)
    assert cases["scalar"]
    np.testing.assert_allclose(cases["c"], 4 / scale ** 2, rtol=1e-12)
    measured = spectrum.analyse(simgd(spec))
    if key == "zeta":
        np.testing.assert_allclose(measured.zeta, np.sqrt(4 / scale ** 2 - 1), rtol=1e-9)
        np.testing.assert_allclose(measured.zeta, cases["predicted_zeta"], rtol=1e-9)
    else:
        c = 4 / scale ** 2
        np.testing.assert_allclose(measured.tau, (np.sqrt(1 / c) + np.sqrt(1 / c - 1)) ** 2, rtol=1e-7)
        np.testing.assert_allclose(measured.tau, cases["predicted_tau"], rtol=1e-7)


@pytest.mark.parametrize("scale", [0.05, 0.1, 30.0, 100.0])
def test_the_extreme_cases_bound_a_game_whose_q_and_ptp_are_not_multiples_of_i(scale):
    """Correlated Σ and Σ_D ≠ Σ (Q, PᵀP full): the predictions are lower bounds of every complex eigenvalue's
    |Im|/|Re| (c > 1) and of the spectrum's τ (c′ < 1), and not attained."""
    spec = gg.LinearGaussian([0.5, 2.0], [[1.0, 0.3], [0.3, 0.5]], latent_variance=1.0, disc_scale=scale,
                             disc_cov=[[2.0, 0.1], [0.1, 1.0]])
    p, q = spec.lemma3_formulas()
    a = simgd(spec)
    cases = gg.extreme_cases(q, p.T @ p)
    assert not cases["scalar"]
    lam = spectrum.nonzero(np.linalg.eigvals(a))
    if cases["predicted_zeta"] is not None:
        ratios = np.abs(lam.imag) / np.abs(lam.real)
        assert ratios.min() >= cases["predicted_zeta"] * 1.01, (ratios.min(), cases)
    else:
        assert np.abs(lam.imag).max() <= 1e-9 * np.abs(lam).max()          # c′ < 1: all real
        assert spectrum.analyse(a).tau >= cases["predicted_tau"] * 1.01, cases


def test_theorem_5_jare_eigenvalues_over_gamma_tend_to_minus_the_eigenvalues_of_ptp():
    """On the general (correlated) game the distance to the limit falls by more than 2× per decade of γ (the
    limit has Jordan pairs, so the rate is about γ^(−1/2)), and at γ = 10⁴ it is below 2%."""
    spec = GAMES["correlated"]
    p, q = spec.lemma3_formulas()
    limit = gg.theorem5_limit(p, q)
    assert np.all(limit <= 1e-12)                                   # real, ≤ 0: no phase factor in the limit
    game, batch = spec.game()
    errors = []
    for gamma in (10.0, 100.0, 1000.0, 1e4):
        lam = np.linalg.eigvals(jacobian.vector_field_jacobian(methods.get("jare", gamma=gamma), game, batch))
        errors.append(gg.theorem5_error(lam, gamma, limit))
    assert all(b < a / 2 for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.02, errors
    # The same measure on SimGD's eigenvalues (γ-free) does not tend to the limit.
    assert gg.theorem5_error(np.linalg.eigvals(simgd(spec)), 1e4, limit) > 0.9


def test_bad_games_are_refused():
    with pytest.raises(ValueError, match="symmetric positive definite"):
        gg.LinearGaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="mean of 1 to 5 numbers"):
        gg.LinearGaussian(np.zeros(6), np.eye(6))
    with pytest.raises(ValueError, match="unknown loss family"):
        gg.LinearGaussian([0.0], [[1.0]], family="hinge")
    # Non-finite or non-numeric inputs would otherwise give NaN blocks and eigenvalues much later.
    for kwargs, message in (({"latent_variance": float("nan")}, "latent_variance must be finite"),
                            ({"disc_scale": float("inf")}, "disc_scale must be finite"),
                            ({"latent_variance": "half"}, "latent_variance must be numbers"),
                            ({"cov": [[np.inf]]}, "cov must be finite"),
                            ({"mean": [np.nan]}, "mean must be finite"),
                            ({"mean": [[0.0]]}, "mean of 1 to")):
        args = {"mean": [0.0], "cov": [[1.0]], **kwargs}
        with pytest.raises(ValueError, match=message):
            gg.LinearGaussian(**args)
    with pytest.raises(ValueError, match="1 <= dim"):
        gg.LinearGaussian.balanced(0, 1.0, 1.0)


def test_theorem_4_distance_equals_a_brute_force_search_over_the_roots():
    """The distance from λ to Theorem 4's allowed set against the nearest root of λ² − a1λ + a2 on a fine
    (a1, a2) grid (the grid's spacing bounds the difference)."""
    q_lo, q_hi, p_lo, p_hi = -2.0, -0.5, 0.3, 1.2
    a1, a2 = np.meshgrid(np.linspace(q_lo, q_hi, 601), np.linspace(p_lo, p_hi, 601))
    disc = np.sqrt((a1 * a1 - 4 * a2).astype(complex))
    roots = np.concatenate([((a1 + disc) / 2).ravel(), ((a1 - disc) / 2).ravel()])
    rng = np.random.default_rng(0)
    for lam in rng.uniform(-3, 1, 40) + 1j * rng.choice([0.0, 1.0], 40) * rng.uniform(-2, 2, 40):
        got = min(np.hypot(gg._real_form_distance(lam.real, q_lo, q_hi, p_lo, p_hi), lam.imag),
                  gg._complex_form_distance(lam, q_lo, q_hi, p_lo, p_hi))
        brute = np.abs(roots - lam).min()
        assert got <= brute + 1e-12 and brute - got <= 0.01, (lam, got, brute)
