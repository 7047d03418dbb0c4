"""Section numerics: eigenvalues of the game Jacobian at the end of training on mog_numerics for SimGD, ConOpt and
JARE (dense, 2,003 parameters), as Mescheder et al. 2017's eigenvalue plots, beside the top-20 Krylov values."""

import os

import matplotlib.pyplot as plt
import numpy as np

from jare_tf import settings
from jare_tf.analysis import krylov, spectrum
from jare_tf.reports.toy.common import Fragment, fmt
from jare_tf.training import run_spectrum

NUMERICS_METHODS = ("gan", "conopt", "jare")
NUMERICS_K = 20            # numerics: the Krylov top-k beside the dense spectrum


def numerics_spectra(workdir: str, k: int):
    """(all eigenvalues of the dense J, the top-k Krylov spectrum) of a finished toy run's applied update at its
    last step, both through the same matrix-free operator."""
    op = run_spectrum.operator_at(workdir)[0]
    return np.linalg.eigvals(op.dense()), krylov.eigenvalues(op, k=k)


def numerics(out: Fragment):
    config = settings.load("mog_numerics")
    out.lines += ["## Eigenvalues at the end of training: the Numerics of GANs' mixture of Gaussians", "",
                  f"`mog_numerics` (Mescheder et al. 2017, Sec. 5): 8 modes on the unit circle, std "
                  f"{config.data.std:g}, 4 × Dense(16, ReLU) players, non-saturating loss, RMSProp "
                  f"{config.optimizer.d['learning_rate']:g}, batch {config.batch_size}, γ = 10, "
                  f"{config.num_steps:,} steps. At the last step the Jacobian J = ∂h/∂w of the field the "
                  "method applies (h = −u, on that step's minibatch; analysis/krylov.py) is formed densely "
                  "from its action on the unit vectors, and its eigenvalues are drawn in the complex plane, "
                  "one panel per method, as in that paper's eigenvalue figures (where SimGD's eigenvalues "
                  "have large imaginary parts and ConOpt's are pulled towards the real axis). The same "
                  f"operator's top {NUMERICS_K} by magnitude from Krylov iterations (ARPACK) are marked "
                  "beside them. The networks are float32, so a Ritz value counts as converged at residual "
                  "≤ √ε₃₂ = 3.5e-4 of max|λ|.", "",
                  "| method | modes (strict) | high-quality | max abs λ | largest abs Im λ | ζ (phase factor) | "
                  "eigenvalues with Re λ > 10⁻⁶·max abs λ | largest Re λ | η_max | Krylov: converged of "
                  f"{NUMERICS_K}, operator products | Krylov vs dense: largest distance / max abs λ |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
    found = {}
    fig, axes = plt.subplots(1, len(NUMERICS_METHODS), figsize=(4.4 * len(NUMERICS_METHODS), 4.4),
                             constrained_layout=True)
    for ax, method in zip(axes, NUMERICS_METHODS):
        wd = os.path.join(out.workdir, "numerics", method)
        _, result, _ = out.run("mog_numerics", method, wd, {})
        lam, ritz = numerics_spectra(wd, NUMERICS_K)
        scale = float(np.abs(lam).max())
        good = ritz.eigenvalues[ritz.converged]
        gap = max((float(np.min(np.abs(lam - r))) for r in good), default=float("nan")) / scale
        unstable = lam[lam.real > 1e-6 * scale]
        found[method] = (result["modes_covered"], float(np.abs(lam.imag).max()), scale, unstable.size)
        out.lines.append(
            f"| {method} | {result['modes_covered']}/8 | {fmt(result['high_quality_fraction'])} | "
            f"{fmt(scale)} | {fmt(found[method][1])} | {fmt(spectrum.phase_factor(lam, 1e-6))} | "
            f"{unstable.size} of {lam.size} | "
            f"{fmt(float(lam.real.max()))} | {fmt(spectrum.max_step_size(lam, 1e-6))} | "
            f"{int(ritz.converged.sum())}, {ritz.matvecs} | {fmt(gap, 2)} |")
        ax.scatter(lam.real, lam.imag, s=6, c="tab:blue", label=f"dense (all {lam.size})")
        ax.scatter(good.real, good.imag, s=40, facecolors="none", edgecolors="tab:red",
                   label=f"Krylov top {NUMERICS_K} (converged)")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.axvline(0, color="0.7", lw=0.6)
        ax.set_title(f"{method}, step {result['step']:,}", fontsize=9)
        ax.set_xlabel("Re λ", fontsize=8)
        ax.set_ylabel("Im λ", fontsize=8)
        ax.legend(fontsize=7)
    out.lines.append("")
    out.figure(fig, "numerics_eigenvalues.png", "eigenvalues of the game Jacobian on mog_numerics")
    by_imag = sorted(found, key=lambda m: found[m][1])
    out.lines += ["ζ and η_max are over the eigenvalues with |λ| > 10⁻⁶·max|λ| (the rest count as zero: a "
                  "trained ReLU network has many). Away from an equilibrium J need not be stable: "
                  "eigenvalues with Re λ > 0 are directions the field pushes away along, and η_max is 0 "
                  "when there is one.", "",
                  "Read from the table: the largest imaginary part is "
                  + ", ".join(f"{found[m][1]:.3g} ({m})" for m in by_imag)
                  + "; relative to the largest |λ| it is "
                  + ", ".join(f"{found[m][1] / found[m][2]:.2g} ({m})" for m in by_imag)
                  + ". Modes covered at the end: "
                  + ", ".join(f"{m} {found[m][0]}/8" for m in NUMERICS_METHODS)
                  + ". This is the configuration of Mescheder et al. 2017 (non-saturating loss, γ = 10 for "
                  "both regularisers), not the JARE paper's mixture-of-Gaussians setup (`fig2`: minimax loss, "
                  "4 × 256 networks); one seed. Every Krylov value is a dense eigenvalue to the precision "
                  "of the float32 operator (last column).", ""]
