"""Section lazy: lazy regularisation (every = k ∈ {1, 2, 4, 8, 16}) of JARE and ConOpt.

The k-iteration operator's rate and largest stable step, and runs: the isotropic Gaussian of Fig. 1, the Dirac-GAN
(and its Appendix C γ), and the mixture of Gaussians at r = 2 (Fig. 2's setup).
"""

import os
from typing import Dict

import numpy as np

from jare_tf import methods, settings
from jare_tf.analysis import closed_forms, jacobian, problems, spectrum
from jare_tf.reports.toy import mog
from jare_tf.reports.toy.common import Fragment, fmt, override, slugify

LAZY_EVERY = (1, 2, 4, 8, 16)       # lazy: the regulariser on one iteration in k
LAZY_MOG_EVERY = (1, 4)


def lazy_analysis(setting: str, method: str, gamma: float, every: int, eta: float, config) -> Dict[str, float]:
    """ρ of the k-iteration operator at step η through the method itself (jacobian.lazy_operator_jacobian), its
    per-iteration rate, and η_max: the largest step below which ρ < 1 for all smaller steps, from the product
    (I + ηA_reg(kγ))(I + ηA_plain)ᵏ⁻¹ of the two field Jacobians (equal to the operator's Jacobian at the
    equilibrium; tests/methods/test_lazy.py)."""
    if setting == "isotropic":
        game, batch = problems.isotropic(config.data.mu, config.data.sigma2)
    else:
        game, batch = problems.dirac()
    f = jacobian.lazy_operator_jacobian(methods.get(method, gamma=gamma, every=every), game, batch, eta)
    rho = spectrum.spectral_radius(f)
    a_plain = jacobian.vector_field_jacobian(methods.get("gan"), game, batch)
    a_reg = jacobian.vector_field_jacobian(methods.get(method, gamma=every * gamma), game, batch)
    eye = np.eye(a_plain.shape[0])

    def radius(step):
        return spectrum.spectral_radius((eye + step * a_reg) @ np.linalg.matrix_power(eye + step * a_plain,
                                                                                      every - 1))

    # The first unstable step on a geometric grid, then bisection between it and the last stable one.
    grid = np.geomspace(1e-7, 10.0, 400)
    stable = [radius(h) < 1 for h in grid]
    if all(stable):
        eta_max = float("inf")
    elif not stable[0]:
        eta_max = 0.0
    else:
        i = stable.index(False)
        lo, hi = grid[i - 1], grid[i]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if radius(mid) < 1 else (lo, mid)
        eta_max = float(lo)
    return {"rho": rho, "rate": rho ** (1.0 / every), "eta_max": eta_max}


def run_distance_ratio(setting: str, history) -> float:
    """A toy run's final over initial distance to its equilibrium."""
    if setting == "isotropic":
        d = np.hypot(np.array(history["g_norm"], float), np.array(history["d_norm"], float))
    else:
        d = np.array(history["distance"], float)
    return float(d[-1] / d[0])


def lazy_verdict(title: str, broken, eta: float) -> str:
    """The section's plain statement, read off the analysis column."""
    if not broken:
        return (f"In {title} lazy regularisation keeps the local convergence of the exact method for every k "
                f"here, at η = {eta:g}; the rate per iteration is in the table.")
    by_method = {}
    for method, k in broken:
        by_method.setdefault(method, []).append(k)
    parts = [f"{m} from k = {min(ks)}" + ("" if ks == [k for k in LAZY_EVERY if k >= min(ks)] else
                                         f" (k = {', '.join(map(str, ks))})") for m, ks in by_method.items()]
    return (f"In {title} the analysis shows lazy regularisation breaking at η = {eta:g} for " + "; ".join(parts)
            + ": there the regularised step, weighted k·γ, overshoots (k·γ·η too large) or the k − 1 plain steps "
            "expand more than it contracts; below that k lazy regularisation keeps the exact method's local "
            "convergence, at the rate per iteration in the table.")


def lazy(out: Fragment):
    out.lines += ["## Lazy regularisation: the regulariser on one iteration in k, with weight k·γ", "",
                  "Iteration t applies the method with weight k·γ when t ≡ 0 (mod k) and plain SimGD "
                  "directions otherwise (methods/lazy.py; StyleGAN2's lazy R1). Its local theory is the "
                  "k-iteration operator F = F_reg ∘ F_plainᵏ⁻¹ at the equilibrium (plain steps of size η), "
                  "whose Jacobian is (I + ηA_reg(kγ))(I + ηA_plain)ᵏ⁻¹ (A: the Jacobians of the update "
                  "fields, by autodiff through the methods). ρ is its spectral radius: the iteration "
                  "converges locally iff ρ < 1, at the rate ρ^(1/k) per iteration. η_max is the largest "
                  "step below which ρ < 1 for every smaller step. The runs use the setting's step and "
                  "iterations; a run converges when its final distance to the equilibrium is below 0.1 of "
                  "the initial one.", ""]
    cases = [("Isotropic Gaussian, Fig. 1 (μ = 4, σ² = 0.04)", "isotropic", {"data.mu": 4.0,
                                                                           "data.sigma2": 0.04}, None),
             ("Dirac-GAN", "dirac", {}, None),
             ("Dirac-GAN, γ = 10 (Appendix C)", "dirac", {}, 10.0)]
    timing_rows = []
    for title, setting, overrides, gamma_override in cases:
        out.lines += [f"### {title}", "",
                      "| method | γ | k | ρ(F) at the run's η | rate ρ^(1/k) | closed form of the rate | η_max | "
                      "analysis | final distance / initial (run) | run |",
                      "|---|---|---|---|---|---|---|---|---|---|"]
        broken, disagree, rows = [], [], 0
        for method in ("jare", "conopt"):
            for k in LAZY_EVERY:
                config = settings.load(setting)
                for path, value in overrides.items():
                    override(config, path, value)
                gamma = gamma_override or settings.method_options(config, method)["gamma"]
                eta = float(config.optimizer.d["learning_rate"])
                analysis = lazy_analysis(setting, method, gamma, k, eta, config)
                extra = {f"method.options.{method}.every": k, f"method.options.{method}.gamma": gamma}
                wd = os.path.join(out.workdir, "lazy", slugify(title.split(" (")[0]) +
                                  (f"_gamma{gamma:g}" if gamma_override else "") + f"_{method}_every{k}")
                _, result, history = out.run(setting, method, wd, dict(overrides, **extra))
                ratio = run_distance_ratio(setting, history)
                converges = analysis["rho"] < 1
                run_converges = ratio < 0.1
                timing_rows.append((title, method, k, result["seconds"] / config.num_steps))
                if not converges:
                    broken.append((method, k))
                rows += 1
                if converges != run_converges:
                    disagree.append(f"{method} k = {k}")
                closed = (fmt(closed_forms.dirac_lazy_jare_rate(gamma, k, eta), 6) if setting == "dirac"
                          else "–")
                out.lines.append(
                    f"| {method} | {gamma:g} | {k} | {fmt(analysis['rho'], 6)} | {fmt(analysis['rate'], 6)} | "
                    f"{closed} | {fmt(analysis['eta_max'])} | "
                    f"{'converges' if converges else 'does not converge'} | {fmt(ratio)} | "
                    f"{'converges' if run_converges else 'does not converge'} |")
        out.lines += ["", lazy_verdict(title, broken, eta),
                      f"The runs agree with the local analysis in {rows - len(disagree)} of {rows} rows"
                      + (f"; not in: {', '.join(disagree)} (the analysis is local, about the equilibrium; "
                         f"a run starts away from it and may leave its basin, as ConOpt at large γ does "
                         f"from the Dirac-GAN's start in the paper's Appendix C, or converge too slowly "
                         f"for the 0.1 criterion in the run's iterations)." if disagree else "."), ""]
    lazy_mog(out)
    out.timing_lines = (["| case | method | k | ms per iteration |", "|---|---|---|---|"]
                        + [f"| {t} | {m} | {k} | {1000 * s:.3f} |" for t, m, k, s in timing_rows])


def lazy_mog(out: Fragment):
    title, overrides, _, _ = mog.MOG_RUNS["fig2"]
    steps = mog.MOG_VARIANT_STEPS
    out.lines += [f"### Mixture of Gaussians, {title.split(' (')[0]}: JARE, every ∈ "
                  f"{{{', '.join(map(str, LAZY_MOG_EVERY))}}}, {steps:,} steps", ""]
    trained = {}
    for k in LAZY_MOG_EVERY:
        one = mog.runs(out, f"lazy_r_2_every{k}", dict(overrides, **{"method.options.jare.every": k}),
                       ("jare",), steps)
        trained[f"jare every={k}"] = one["jare"]
    mog.tables(out, trained)
