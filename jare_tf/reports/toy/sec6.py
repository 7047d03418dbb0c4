"""Section sec6: Sec. 6 of the JARE paper on the linear-Gaussian game (analysis/general_gans.py; seconds).

Lemma 3's blocks, Theorem 4's form of the SimGD spectrum, the two extreme cases after it and Theorem 5's limit of
JARE's eigenvalues as γ grows.
"""

import numpy as np

from jare_tf import methods
from jare_tf.analysis import general_gans, jacobian, spectrum
from jare_tf.reports.toy.common import Fragment, fmt

SEC6_GAMMAS = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)     # sec6: Theorem 5's limit approached
SEC6_SCALES = (0.1, 0.2, 0.5, 2.0, 20.0, 50.0)      # sec6: the discriminator's scale s, c = 4/(σ²s²) at σ² = 1

#: Games that satisfy Sec. 6's assumptions: Lemma 3 and Theorem 4 are checked on each, Theorem 5 on the first.
SEC6_GAMES = {
    "d = 2, correlated Σ, Σ_D ≠ Σ, vanilla": dict(mean=[0.5, 2.0], cov=[[1.0, 0.3], [0.3, 0.5]],
                                                  latent_variance=1.0, disc_scale=0.7,
                                                  disc_cov=[[2.0, 0.1], [0.1, 1.0]]),
    "d = 3, diagonal Σ, reverse KL": dict(mean=[0.0, -1.0, 3.0], cov=np.diag([0.4, 1.0, 2.5]).tolist(),
                                          latent_variance=0.8, disc_scale=1.3, family="reverse_kl"),
}


def sec6(out: Fragment):
    simgd = methods.get("gan")
    out.lines += ["## Sec. 6: Lemma 3, Theorem 4 and Theorem 5 on a realisable game", "",
                  "The game of `jare-spectrum --problem=linear_gaussian` (analysis/general_gans.py): an affine "
                  "generator G(z) = Az + b fitting N(μ, Σ) from z ~ N(0, κ²I), against D(x) = s·θᵀh(u), "
                  "u = L_D⁻¹(x − μ), h the degree-1 and -2 Hermite polynomials, at its equilibrium (A, b) = "
                  "(L/κ, μ), θ = 0, where D ≡ 0 (Assumption 1). Expectations are exact (3-point "
                  "Gauss–Hermite product rule). P and Q come from eq. 9 with hand-derived gradients; the "
                  "Jacobians from autodiff through the methods. Theorem 4's violation is the largest "
                  "eigenvalue's distance from the set of roots the theorem allows, over its |λ|, less "
                  "rounding (1e3·ε·max|λ|).", "",
                  "| game | n (G) | m (D) | rank P | Lemma 3: max block error (relative) | Theorem 4: largest "
                  "violation | zero eigenvalues (n − rank P) | λ(Q) | λ(PᵀP) |",
                  "|---|---|---|---|---|---|---|---|---|"]
    for label, kwargs in SEC6_GAMES.items():
        checks = general_gans.simgd_checks(general_gans.LinearGaussian(**kwargs))
        n, m, rank = checks["generator_parameters"], checks["discriminator_parameters"], checks["rank_p"]
        errors, t4 = checks["lemma3_relative_error"], checks["theorem4"]
        out.lines.append(
            f"| {label} | {n} | {m} | {rank} | {max(errors.values()):.1e} | {t4['violation']:.1e} | "
            f"{t4['zero_eigenvalues']} ({n - rank}) | [{fmt(t4['a1_range'][0])}, {fmt(t4['a1_range'][1])}] | "
            f"[{fmt(t4['a2_range'][0])}, {fmt(t4['a2_range'][1])}] |")
    out.lines += ["", "The zero eigenvalues are the proof's y2 = 0 case: the rotations A → AR (R orthogonal), "
                  "which leave p_φ unchanged.", "",
                  "### The two extreme cases after Theorem 4", "",
                  "Σ = Σ_D = I, κ² = ½: Q = −½s²·I and PᵀP = ¼s²·I, so c = c′ = 4λ(PᵀP)/λ(Q)² = 4/s². "
                  "Case 1 (c > 1) predicts ζ = √(c − 1), case 2 (c′ < 1) τ = (√(1/c′) + √(1/c′ − 1))²; "
                  "measured: ζ and τ of the autodiff SimGD spectrum.", "",
                  "| s | c | predicted ζ | measured ζ | predicted τ | measured τ |", "|---|---|---|---|---|---|"]
    for scale in SEC6_SCALES:
        spec = general_gans.LinearGaussian.balanced(dim=2, sigma2=1.0, disc_scale=scale)
        game, batch = spec.game()
        p, q = spec.lemma3_formulas()
        cases = general_gans.extreme_cases(q, p.T @ p)
        measured = spectrum.analyse(jacobian.vector_field_jacobian(simgd, game, batch))
        out.lines.append(f"| {scale:g} | {fmt(cases['c'], 6)} | {fmt(cases['predicted_zeta'], 6)} | "
                         f"{fmt(measured.zeta, 6)} | {fmt(cases['predicted_tau'], 6)} | "
                         f"{fmt(measured.tau, 6)} |")
    label = next(iter(SEC6_GAMES))
    spec = general_gans.LinearGaussian(**SEC6_GAMES[label])
    game, batch = spec.game()
    p, q = spec.lemma3_formulas()
    limit = general_gans.theorem5_limit(p, q)
    out.lines += ["", f"### Theorem 5: JARE's λ/γ → −λ(PᵀP) ∪ −λ(PPᵀ) ({label})", "",
                  "Relative error: max over a one-to-one matching of |λ_i/γ − μ_i| / max|μ|.", "",
                  "| γ | relative error | ζ of JARE |", "|---|---|---|"]
    errors = []
    for gamma in SEC6_GAMMAS:
        lam = np.linalg.eigvals(jacobian.vector_field_jacobian(methods.get("jare", gamma=gamma), game, batch))
        errors.append(general_gans.theorem5_error(lam, gamma, limit))
        out.lines.append(f"| {gamma:g} | {errors[-1]:.3g} | {fmt(spectrum.phase_factor(lam))} |")
    falls = all(b < a for a, b in zip(errors, errors[1:]))
    slope = np.polyfit(np.log10(SEC6_GAMMAS[2:]), np.log10(errors[2:]), 1)[0]
    out.lines += ["", f"The error {'falls at every step' if falls else 'does not fall at every step'}; from "
                  f"γ = {SEC6_GAMMAS[2]:g} on it falls as γ^{slope:.2f} (the limit has Jordan pairs: each "
                  "nonzero λ(PᵀP) appears in both diagonal blocks, coupled by PQ, which gives γ^(−1/2)).", ""]
