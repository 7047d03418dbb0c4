"""Sections fig1, fig5 and fig6: the isotropic Gaussian of the JARE paper's Sec. 4, gan vs conopt vs jare.

  fig1    μ = 4, σ² = 0.04 (JARE paper Fig. 1)
  fig5    σ = 0.2, μ ∈ {2, 4, 6} (Fig. 5; ConOpt's η_max drops below the step at μ = 6)
  fig6    μ = 2, σ ∈ {0.5, 0.7} (Fig. 6)
"""

import os
from typing import List, Tuple

import matplotlib.pyplot as plt
import numpy as np

from jare_tf import methods, settings
from jare_tf.analysis import jacobian, problems, spectrum
from jare_tf.reports.toy.common import Fragment, fmt

ISO_METHODS = ("gan", "conopt", "jare")
#: The isotropic runs' distances to the equilibrium (φ*, θ*) = (v, 0) of Sec. 4: (panel title, axis label).
ISO_NORMS = {"d_norm": ("discriminator distance d_norm", "‖θ − θ*‖ (log scale)"),
             "g_norm": ("generator distance g_norm", "‖φ − φ*‖ (log scale)")}


def eta_max_at_equilibrium(method: str, mu: float, sigma2: float, gamma: float) -> float:
    game, batch = problems.isotropic(mu, sigma2)
    return spectrum.analyse(jacobian.vector_field_jacobian(methods.get(method, gamma=gamma), game, batch)).eta_max


def isotropic(out: Fragment, title: str, cases: List[Tuple[float, float]], tag: str):
    """cases: (μ, σ²) pairs; one column of curves per case."""
    out.lines += [f"## {title}", "", "| μ | σ² | method | g_norm | d_norm | η_max at the equilibrium |",
                  "|---|---|---|---|---|---|"]
    fig, axes = plt.subplots(2, len(cases), figsize=(max(6.4, 4.8 * len(cases)), 6.4), squeeze=False,
                             constrained_layout=True)
    for col, (mu, sigma2) in enumerate(cases):
        for method in ISO_METHODS:
            wd = os.path.join(out.workdir, tag, f"mu{mu:g}_s{sigma2:g}_{method}")
            config, result, history = out.run("isotropic", method, wd, {"data.mu": mu, "data.sigma2": sigma2})
            eta = eta_max_at_equilibrium(method, mu, sigma2,
                                         settings.method_options(config, method).get("gamma", 0.0))
            out.lines.append(f"| {mu:g} | {sigma2:g} | {method} | {fmt(result['g_norm'])} | "
                             f"{fmt(result['d_norm'])} | {fmt(eta)} |")
            for row, key in enumerate(("d_norm", "g_norm")):
                y = np.maximum(np.array(history[key], dtype=float), 1e-8)
                axes[row, col].semilogy(history["step"], y, label=method)
                axes[row, col].set_title(f"{ISO_NORMS[key][0]}, μ = {mu:g}, σ² = {sigma2:g}", fontsize=9)
                axes[row, col].set_ylabel(ISO_NORMS[key][1], fontsize=8)
    for ax in axes.ravel():
        ax.legend(fontsize=7)
        ax.set_xlabel("iteration (SGD step 1e-3)", fontsize=8)
    out.lines.append("")
    out.figure(fig, f"{tag}.png", title)
    out.lines += ["Step size 1e-3 (SGD); a method whose η_max is below it cannot converge at this step.", ""]


def fig1(out: Fragment):
    isotropic(out, "Isotropic Gaussian, Fig. 1 (μ = 4, σ² = 0.04, γ = 10)", [(4.0, 0.04)], "fig1")


def fig5(out: Fragment):
    isotropic(out, "Isotropic Gaussian, Fig. 5 (σ = 0.2, μ ∈ {2, 4, 6})", [(2.0, 0.04), (4.0, 0.04), (6.0, 0.04)],
              "fig5")


def fig6(out: Fragment):
    isotropic(out, "Isotropic Gaussian, Fig. 6 (μ = 2, σ ∈ {0.5, 0.7})", [(2.0, 0.25), (2.0, 0.49)], "fig6")
