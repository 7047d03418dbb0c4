"""`jare-reproduce toy`: the toy experiments of the JARE paper and of Mescheder et al. 2018, end to end.

Sections (each can be run alone with --only):
  fig1    isotropic Gaussian, μ = 4, σ² = 0.04: gan vs conopt vs jare (JARE paper Fig. 1)
  fig5    isotropic, σ = 0.2, μ ∈ {2, 4, 6} (Fig. 5; ConOpt's η_max drops below the step at μ = 6)
  fig6    isotropic, μ = 2, σ ∈ {0.5, 0.7} (Fig. 6)
  fig2    mixture of Gaussians, r = 2, γ = 10: gan, conopt, jare to 20,000 steps (Fig. 2); SimGD over 3 seeds
  fig7    mixture of Gaussians, r = 2, γ = 1000 (Fig. 7)
  fig8    mixture of Gaussians, r = 10, γ = 1000 (Fig. 8): gan, conopt, jare; latent variance r and 2r
The MoG sections show a strict view (3 std of a mode) and a scale-aware one (distances over r; evaluation/
toy_metrics.py).
  dirac   the Dirac-GAN: Table 1 and Fig. 3 of Mescheder et al. 2018, and the JARE paper's Appendix C
  nk      streamlines of Nagarajan & Kolter's Fig. 3 (GAN and WGAN, generator-only η ∈ {0, .25, .5, 1})
  lazy    lazy regularisation (every = k ∈ {1, 2, 4, 8, 16}) of JARE and ConOpt: the k-iteration operator's rate
          and largest stable step, and runs (isotropic Fig. 1, Dirac-GAN, MoG r = 2)
  numerics  eigenvalues of the game Jacobian at the end of training on mog_numerics for SimGD, ConOpt and JARE
          (dense, 2,003 parameters), as Mescheder et al. 2017's eigenvalue plots, beside the top-20 Krylov values
  sec6    Sec. 6 of the JARE paper on the linear-Gaussian game: Lemma 3's blocks, Theorem 4's form, the extreme
          cases after it and Theorem 5's limit (analysis/general_gans.py; seconds)

Every number and figure in the report is computed by this module from runs it makes. Each section writes its own
fragment (toy/sections/<section>.md) and toy.md is assembled from the fragments, so rerunning one section
replaces exactly that part; the committed docs/results/toy.md is what the command wrote, and each section names
the commit that made it (Report.write).
"""

import json
import os
from typing import Callable, Dict, List, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from jare_tf import methods, settings  # noqa: E402
from jare_tf.analysis import closed_forms, general_gans, jacobian, krylov, problems, spectrum  # noqa: E402
from jare_tf.evaluation import plots, toy_metrics  # noqa: E402
from jare_tf.training import run_spectrum  # noqa: E402
from jare_tf.training.toy_trainer import ToyRun  # noqa: E402

SECTIONS = ("fig1", "fig5", "fig6", "fig2", "fig7", "fig8", "dirac", "nk", "lazy", "numerics", "sec6")
LAZY_EVERY = (1, 2, 4, 8, 16)       # lazy: the regulariser on one iteration in k
LAZY_MOG_EVERY = (1, 4)
#: toy.md shows a section's measured times between these markers; everything outside them regenerates exactly.
TIMINGS_BEGIN, TIMINGS_END = "<!-- timings: differ from run to run -->", "<!-- /timings -->"
ISO_METHODS = ("gan", "conopt", "jare")
#: The isotropic runs' distances to the equilibrium (φ*, θ*) = (v, 0) of Sec. 4: (panel title, axis label).
ISO_NORMS = {"d_norm": ("discriminator distance d_norm", "‖θ − θ*‖ (log scale)"),
             "g_norm": ("generator distance g_norm", "‖φ − φ*‖ (log scale)")}
MOG_STEPS = 20000          # Fig. 2 runs, shown to 20k (the paper stops at 10k)
MOG_VARIANT_STEPS = 10000  # Fig. 7 / 8 variants
MOG_SNAPSHOT = 2000        # sample densities and per-mode coverage every 2k steps (Fig. 2's panels)
MOG_FINE_SNAPSHOT = 500    # samples saved every 500 steps: the scale-aware curves and the SimGD seed study
SIMGD_SEEDS = (0, 1, 2)    # fig2: SimGD over these seeds (the paper: it oscillates among modes)
NUMERICS_METHODS = ("gan", "conopt", "jare")
NUMERICS_K = 20            # numerics: the Krylov top-k beside the dense spectrum
SEC6_GAMMAS = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)     # sec6: Theorem 5's limit approached
SEC6_SCALES = (0.1, 0.2, 0.5, 2.0, 20.0, 50.0)      # sec6: the discriminator's scale s, c = 4/(σ²s²) at σ² = 1

# (label, method, overrides) — the rows of Table 1 and Fig. 3 of Mescheder et al. 2018 and of Appendix C.
DIRAC_RUNS = [
    ("GAN", "gan", {}),
    ("non-saturating GAN", "gan", {"game.generator_loss": "non_saturating"}),
    ("WGAN (clip 1)", "wgan", {}),
    ("WGAN-GP (γ 0.7, g0 1)", "wgan_gp", {}),
    ("instance noise (σ 0.7)", "instance_noise", {}),
    ("R1 (γ 0.3)", "r1", {}),
    ("R2 (γ 0.3)", "r2", {}),
    ("gradient penalty at the critical γ = 1 (R1)", "r1", {"method.options.r1.gamma": 1.0}),
    ("ConOpt (γ 1)", "conopt", {}),
    ("JARE (γ 1)", "jare", {}),
    ("AltGD (n_d = 5)", "altgd", {"method.options.altgd.n_d": 5}),
    ("ConOpt, large γ = 4 (Appendix C)", "conopt", {"method.options.conopt.gamma": 4.0}),
    ("JARE, γ = 10 (Appendix C)", "jare", {"method.options.jare.gamma": 10.0}),
]


def override(config, path: str, value):
    node = config
    keys = path.split(".")
    for key in keys[:-1]:
        if key not in node and keys[:2] == ["method", "options"]:
            node[key] = {}
        node = node[key]
    if keys[-1] not in node:
        if keys[:2] != ["method", "options"] or len(keys) != 4:
            raise KeyError(f"config has no {path}")
        node[keys[-1]] = value      # a method option the setting leaves at the method's default (every=k)
    node[keys[-1]] = value
    return config


def run(setting: str, method: str, workdir: str, overrides: Dict[str, object], log: Callable[[str], None]):
    config = settings.load(setting)
    for path, value in overrides.items():
        override(config, path, value)
    result = ToyRun(config, method).train(workdir, log=log)
    with open(os.path.join(workdir, "history.json"), encoding="utf-8") as f:
        history = json.load(f)
    return config, result, history


def eta_max_at_equilibrium(method: str, mu: float, sigma2: float, gamma: float) -> float:
    game, batch = problems.isotropic(mu, sigma2)
    return spectrum.analyse(jacobian.vector_field_jacobian(methods.get(method, gamma=gamma), game, batch)).eta_max


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


def numerics_spectra(workdir: str, k: int):
    """(all eigenvalues of the dense J, the top-k Krylov spectrum) of a finished toy run's applied update at its
    last step, both through the same matrix-free operator."""
    op = run_spectrum.operator_at(workdir)[0]
    return np.linalg.eigvals(op.dense()), krylov.eigenvalues(op, k=k)


def slugify(text: str) -> str:
    """An ASCII file name for a title: 'r = 2, γ = 10' -> 'r_2_gamma_10'."""
    text = text.replace("γ", "gamma").replace("σ", "sigma").replace("μ", "mu")
    out = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in text)
    return "_".join(part for part in out.split("_") if part)


def fmt(x, digits=3) -> str:
    if x is None:
        return "–"
    if isinstance(x, (int, np.integer)):
        return str(x)
    return f"{x:.{digits}g}"


class Report:
    def __init__(self, report_dir: str, workdir: str, log: Callable[[str], None] = print):
        self.report_dir, self.workdir, self.log = report_dir, workdir, log
        self.figdir = os.path.join(report_dir, "toy")
        os.makedirs(self.figdir, exist_ok=True)
        self.lines: List[str] = []
        self.timings: Dict[str, float] = {}      # run -> wall-clock seconds, written beside the markdown

    def run(self, setting: str, method: str, workdir: str, overrides: Dict[str, object]):
        """One training run of a section (module-level `run`), its wall-clock time kept out of the markdown."""
        config, result, history = run(setting, method, workdir, overrides, self.log)
        self.timings[os.path.relpath(workdir, self.workdir)] = round(result["seconds"], 1)
        return config, result, history

    def figure(self, fig, name: str, caption: str, labelled: bool = True):
        """Save a figure after checking it is readable (plots.check_readable) and link it from the report."""
        plots.check_readable(fig, labelled)
        path = os.path.join(self.figdir, name)
        fig.savefig(path, dpi=plots.REPORT_DPI, bbox_inches="tight")
        plt.close(fig)
        self.lines += [f"![{caption}](toy/{name})", ""]

    # --- isotropic --------------------------------------------------------------------------------------------
    def isotropic(self, title: str, cases: List[Tuple[float, float]], tag: str):
        """cases: (μ, σ²) pairs; one column of curves per case."""
        self.lines += [f"## {title}", "", "| μ | σ² | method | g_norm | d_norm | η_max at the equilibrium |",
                       "|---|---|---|---|---|---|"]
        fig, axes = plt.subplots(2, len(cases), figsize=(max(6.4, 4.8 * len(cases)), 6.4), squeeze=False,
                                 constrained_layout=True)
        for col, (mu, sigma2) in enumerate(cases):
            for method in ISO_METHODS:
                wd = os.path.join(self.workdir, tag, f"mu{mu:g}_s{sigma2:g}_{method}")
                config, result, history = self.run("isotropic", method, wd,
                                                   {"data.mu": mu, "data.sigma2": sigma2})
                eta = eta_max_at_equilibrium(method, mu, sigma2,
                                             settings.method_options(config, method).get("gamma", 0.0))
                self.lines.append(f"| {mu:g} | {sigma2:g} | {method} | {fmt(result['g_norm'])} | "
                                  f"{fmt(result['d_norm'])} | {fmt(eta)} |")
                for row, key in enumerate(("d_norm", "g_norm")):
                    y = np.maximum(np.array(history[key], dtype=float), 1e-8)
                    axes[row, col].semilogy(history["step"], y, label=method)
                    axes[row, col].set_title(f"{ISO_NORMS[key][0]}, μ = {mu:g}, σ² = {sigma2:g}", fontsize=9)
                    axes[row, col].set_ylabel(ISO_NORMS[key][1], fontsize=8)
        for ax in axes.ravel():
            ax.legend(fontsize=7)
            ax.set_xlabel("iteration (SGD step 1e-3)", fontsize=8)
        self.lines.append("")
        self.figure(fig, f"{tag}.png", title)
        self.lines += ["Step size 1e-3 (SGD); a method whose η_max is below it cannot converge at this step.", ""]

    # --- mixture of Gaussians ---------------------------------------------------------------------------------
    MOG_RUNS = {
        "fig2": ("r = 2, γ = 10 (Fig. 2)", {}, ("gan", "conopt", "jare"), "MOG_STEPS"),
        "fig7": ("r = 2, γ = 1000 (Fig. 7)", {"method.options.conopt.gamma": 1000.0,
                                              "method.options.jare.gamma": 1000.0}, ("conopt", "jare"),
                 "MOG_VARIANT_STEPS"),
        # The paper's latent N(0, rI) scales with the radius; SimGD is the baseline the views must tell apart.
        "fig8": ("r = 10, γ = 1000 (Fig. 8)", {"method.options.conopt.gamma": 1000.0,
                                               "method.options.jare.gamma": 1000.0, "data.radius": 10.0,
                                               "data.latent_variance": 10.0}, ("gan", "conopt", "jare"),
                 "MOG_VARIANT_STEPS"),
    }

    def mog(self, section: str):
        title, overrides, method_list, steps_name = self.MOG_RUNS[section]
        steps = globals()[steps_name]
        self.lines += [f"## Mixture of Gaussians, {title}", "",
                       "Metrics on 2,500 samples from fixed latents, in two views. **Strict** (this project's "
                       "convention): a sample is high-quality within 3 std (0.18) of its nearest mode; a mode is "
                       f"covered by ≥ {toy_metrics.MIN_SAMPLES_PER_MODE} high-quality samples. **Scale-aware**: "
                       "each sample's distance to its nearest mode over the radius r (median and 90th percentile), "
                       f"and the modes with ≥ {toy_metrics.MIN_SAMPLES_PER_MODE} samples within "
                       f"{toy_metrics.LOOSE_RADIUS:g}·r. At r = 2 the two agree closely (0.1·r = 0.2 ≈ 3 std); "
                       "at r = 10 3 std is 1.8% of r, so the strict count reads samples that gather around every "
                       "mode, only still wider than 3 std, as missing: it cannot tell \"approaching\" from "
                       "\"failed\". The paper's panels are densities, which show the difference; so does the "
                       "scale-aware view.", ""]
        slug = slugify(title.split(" (")[0])
        self._mog_group(title, slug, overrides, method_list, steps)
        if section == "fig8":
            radius = overrides["data.radius"]
            self.lines += [f"### The same with the reference code's latent variance 2r = {2 * radius:g}", "",
                           "The paper samples z ~ N(0, r·I); the authors' code uses variance 2r. Everything else "
                           "as above.", ""]
            self._mog_group(f"{title.split(' (')[0]}, latent variance 2r", f"{slug}_latent_2r",
                            dict(overrides, **{"data.latent_variance": 2 * radius}), method_list, steps)
        if section == "fig2":
            self._simgd_seeds(title, slug, overrides, steps)

    def _mog_runs(self, slug, overrides, method_list, steps, seed=None):
        """Train each method; its snapshots every MOG_FINE_SNAPSHOT steps: (step, samples, strict, scale-aware)."""
        runs = {}
        for method in method_list:
            wd = os.path.join(self.workdir, "mog", f"{slug}_{method}" + (f"_seed{seed}" if seed is not None else ""))
            extra = {"seed": seed} if seed is not None else {}
            config, result, history = self.run("mog", method, wd, dict(
                overrides, num_steps=steps, image_every=MOG_FINE_SNAPSHOT, log_every=MOG_SNAPSHOT // 4, **extra))
            centres = self._centres(config)
            snaps = []
            for step in range(0, steps + 1, MOG_FINE_SNAPSHOT):
                samples = np.load(os.path.join(wd, f"samples_{step:07d}.npz"))["samples"]
                snaps.append((step, samples, toy_metrics.mode_coverage(samples, centres, config.data.std),
                              toy_metrics.relative_spread(samples, centres, config.data.radius)))
            runs[method] = (history, snaps, centres, config.data.radius)
        return runs

    def _mog_group(self, title, slug, overrides, method_list, steps):
        runs = self._mog_runs(slug, overrides, method_list, steps)
        self._mog_tables(runs)
        self._mog_figures(title, slug, runs)

    @staticmethod
    def _centres(config):
        from jare_tf.data import synthetic
        return synthetic.ring_centres(config.data.num_modes, config.data.radius).numpy()

    @staticmethod
    def _covered(strict) -> List[int]:
        return np.nonzero(np.array(strict["per_mode"]) >= toy_metrics.MIN_SAMPLES_PER_MODE)[0].tolist()

    @staticmethod
    def _set(modes) -> str:
        return "{" + ",".join(map(str, modes)) + "}"

    def _mog_tables(self, runs):
        coarse = {m: [snap for snap in snaps if snap[0] % MOG_SNAPSHOT == 0] for m, (_, snaps, _, _) in runs.items()}
        steps = [snap[0] for snap in next(iter(coarse.values()))]
        head = ["| method | " + " | ".join(f"{s / 1000:g}k" for s in steps) + " |", "|---|" + "---|" * len(steps)]
        self.lines += ["Strict view:", ""] + head
        for method, snaps in coarse.items():
            self.lines.append(f"| {method} | " + " | ".join(
                f"{strict['modes_covered']}/8, {strict['high_quality_fraction']:.2f}" for _, _, strict, _ in snaps)
                + " |")
        self.lines += ["", "(modes covered, high-quality fraction) at each step.", "", "Scale-aware view:", ""] + head
        for method, snaps in coarse.items():
            self.lines.append(f"| {method} | " + " | ".join(
                f"{view['median_rel']:.3f}, {view['p90_rel']:.3f}, {view['loose_modes']}/8"
                for _, _, _, view in snaps) + " |")
        self.lines += ["", f"(median and 90th percentile of the distance to the nearest mode over r, modes with ≥ "
                       f"{toy_metrics.MIN_SAMPLES_PER_MODE} samples within {toy_metrics.LOOSE_RADIUS:g}·r) at each "
                       f"step.", ""]
        for method, snaps in coarse.items():
            covered = [self._covered(strict) for _, _, strict, _ in snaps]
            changes = sum(a != b for a, b in zip(covered[1:], covered[2:]))
            visited = sorted(set(m for c in covered for m in c))
            settled = len(covered) >= 4 and covered[-1] == covered[-2] == covered[-3]
            view = snaps[-1][3]
            self.lines.append(
                f"- **{method}**: modes covered (strict) at each snapshot after the start: "
                + "; ".join(self._set(c) for c in covered[1:])
                + f". Modes visited at some point: {len(visited)}/8; the covered set changes {changes} "
                f"time{'s' if changes != 1 else ''} between consecutive snapshots; at the end {len(covered[-1])}/8 "
                f"modes are covered" + ("; the set has not changed over the last three snapshots (it settles)"
                                        if settled else "; the set is still changing")
                + f". Scale-aware at the end: median distance {view['median_rel']:.3f}·r, 90% within "
                f"{view['p90_rel']:.3f}·r, {view['loose_modes']}/8 modes within {toy_metrics.LOOSE_RADIUS:g}·r.")
        final_strict = {m: snaps[-1][2]["modes_covered"] for m, snaps in coarse.items()}
        final_loose = {m: snaps[-1][3]["loose_modes"] for m, snaps in coarse.items()}
        if len(set(final_strict.values())) == 1 and len(set(final_loose.values())) > 1:
            self.lines.append(
                f"- The strict count gives every method {next(iter(final_strict.values()))}/8 at the end and cannot "
                f"separate them; within {toy_metrics.LOOSE_RADIUS:g}·r the methods cover "
                + ", ".join(f"{m} {n}/8" for m, n in final_loose.items()) + ".")
        self.lines.append("")

    def _simgd_seeds(self, title, slug, overrides, steps):
        """The paper says SimGD oscillates among modes: its covered set, every MOG_FINE_SNAPSHOT steps, over
        SIMGD_SEEDS (seed 0 is the run above)."""
        self.lines += [f"### SimGD over {len(SIMGD_SEEDS)} seeds ({title.split(' (')[0]}, {steps:,} steps)", "",
                       f"Strict covered set every {MOG_FINE_SNAPSHOT:,} steps; a change is a snapshot whose set "
                       f"differs from the one before (after the first {MOG_SNAPSHOT:,} steps).", "",
                       "| seed | changes | distinct sets | modes visited | modes at the end | final set |",
                       "|---|---|---|---|---|---|"]
        all_changes = []
        for seed in SIMGD_SEEDS:
            runs = self._mog_runs(slug, overrides, ("gan",), steps, seed=seed if seed else None)
            snaps = [snap for snap in runs["gan"][1] if snap[0] >= MOG_SNAPSHOT]
            covered = [self._covered(strict) for _, _, strict, _ in snaps]
            changes = sum(a != b for a, b in zip(covered, covered[1:]))
            all_changes.append(changes)
            visited = sorted(set(m for c in covered for m in c))
            self.lines.append(f"| {seed} | {changes} of {len(covered) - 1} | {len(set(map(tuple, covered)))} | "
                              f"{len(visited)}/8 | {len(covered[-1])}/8 | {self._set(covered[-1])} |")
        self.lines += ["", f"Over the {len(SIMGD_SEEDS)} seeds the covered set changes {sum(all_changes)} times in "
                       f"{len(SIMGD_SEEDS) * (len(covered) - 1)} consecutive snapshot pairs.", ""]

    def _mog_figures(self, title, slug, runs):
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), constrained_layout=True)
        for method, (history, snaps, _, _) in runs.items():
            axes[0].plot(history["step"], history["modes_covered"], label=method)
            axes[1].plot(history["step"], history["high_quality_fraction"], label=method)
            line, = axes[2].semilogy([s[0] for s in snaps], [s[3]["median_rel"] for s in snaps], label=f"{method} median")
            axes[2].semilogy([s[0] for s in snaps], [s[3]["p90_rel"] for s in snaps], ls="--", color=line.get_color(),
                             label=f"{method} 90%")
        axes[0].set_title("modes covered (strict)", fontsize=9)
        axes[0].set_ylabel("modes with ≥ 20 samples within 3 std (of 8)", fontsize=8)
        axes[1].set_title("high-quality fraction (strict)", fontsize=9)
        axes[1].set_ylabel("samples within 3 std of a mode", fontsize=8)
        axes[2].set_title("distance to the nearest mode (scale-aware)", fontsize=9)
        axes[2].set_ylabel("distance / r (log scale)", fontsize=8)
        for ax in axes:
            ax.legend(fontsize=7)
            ax.set_xlabel("iteration", fontsize=8)
        self.figure(fig, f"mog_{slug}_curves.png", f"MoG {title}: curves")
        kde = {m: [snap for snap in snaps if snap[0] % MOG_SNAPSHOT == 0] for m, (_, snaps, _, _) in runs.items()}
        n_cols = max(len(s) for s in kde.values())
        fig, axes = plt.subplots(len(kde), n_cols, figsize=(max(6.4, 1.9 * n_cols), max(3.8, 1.9 * len(kde))),
                                 squeeze=False, constrained_layout=True)
        for row, (method, snaps) in enumerate(kde.items()):
            r = 2 * runs[method][3]
            for col, (step, samples, _, _) in enumerate(snaps):
                plots.draw_density(axes[row, col], samples, (-r, r, -r, r), runs[method][2],
                                   f"{method} {step / 1000:g}k")
        self.figure(fig, f"mog_{slug}_kde.png", f"MoG {title}: sample densities (each panel spans ±2r; red "
                    f"crosses: the modes)", labelled=False)

    # --- Dirac-GAN --------------------------------------------------------------------------------------------
    def dirac(self):
        self.lines += ["## Dirac-GAN (Mescheder et al. 2018, Table 1 and Fig. 3; JARE paper Appendix C)", "",
                       "Start (φ₀, θ₀) = (1, −1), which is Mescheder et al.'s θ₀ = ψ₀ = 1 (their discriminator "
                       "scores fakes high), step 0.2, 1,000 steps, simultaneous unless stated. distance_ratio = final "
                       "over initial distance to (0, 0); tail_mean_ratio = mean distance over the last 20% of "
                       "steps over the initial one.", "",
                       "| run | distance_ratio | tail_mean_ratio | converges |", "|---|---|---|---|"]
        fig, ax = plt.subplots(figsize=(6.4, 6.4), constrained_layout=True)
        for label, method, overrides in DIRAC_RUNS:
            slug = slugify(label)
            _, result, history = self.run("dirac", method, os.path.join(self.workdir, "dirac", slug), overrides)
            converges = result["distance_ratio"] < 0.1
            self.lines.append(f"| {label} | {fmt(result['distance_ratio'])} | {fmt(result['tail_mean_ratio'])} | "
                              f"{'yes' if converges else 'no'} |")
            ax.plot(history["phi"], history["theta"], lw=0.8, label=label)
        ax.set_xlim(-2.5, 2.5)
        ax.set_ylim(-2.5, 2.5)
        ax.set_xlabel("φ (generator position)")
        ax.set_ylabel("θ (discriminator slope)")
        ax.legend(fontsize=6)
        self.lines.append("")
        self.figure(fig, "dirac_trajectories.png", "Dirac-GAN trajectories")

    # --- Nagarajan & Kolter streamlines -----------------------------------------------------------------------
    def nk(self):
        config = settings.load("nk_streamlines")
        etas, families = list(config.data.etas), list(config.data.families)
        self.lines += ["## Nagarajan & Kolter Fig. 3: generator-only regularisation", "",
                       "Streamlines of the update vector field −u around the equilibrium (a, w₂) = (1, 0) for "
                       "D(x) = w₂x², G(z) = a·z, data and latent uniform on [−1, 1] (256-point midpoint "
                       "quadrature); η is N&K's weight, γ = 2η here.", ""]
        fig, axes = plt.subplots(len(families), len(etas), figsize=(3.2 * len(etas), 3.2 * len(families)),
                                 squeeze=False, constrained_layout=True)
        grid_a, grid_w = np.linspace(0.0, 2.0, 15), np.linspace(-1.0, 1.0, 15)
        quad = ((np.arange(256) + 0.5) / 256 * 2 - 1).reshape(-1, 1)
        batch = {"real": tf.constant(quad, tf.float64), "z": tf.constant(quad, tf.float64)}
        from jare_tf.games import Game, Players
        from jare_tf.models import toy
        for row, family in enumerate(families):
            game = Game(toy.nk_generator(1.0, "float64"), toy.nk_discriminator(0.0, "float64"), family=family)
            for col, eta in enumerate(etas):
                method = methods.get("gen_only", gamma=2 * eta)
                ua, uw = np.zeros((15, 15)), np.zeros((15, 15))
                for i, w2 in enumerate(grid_w):
                    for j, a in enumerate(grid_a):
                        p = Players([tf.constant([[a]], tf.float64)], [tf.constant([w2], tf.float64)])
                        u = method.directions(game, p, game.state(), batch).updates
                        ua[i, j], uw[i, j] = -u.g[0].numpy().item(), -u.d[0].numpy().item()
                ax = axes[row, col]
                ax.streamplot(grid_a, grid_w, ua, uw, density=0.8, linewidth=0.6, arrowsize=0.6)
                ax.plot([1], [0], "r*")
                ax.set_title(f"{'GAN' if family == 'vanilla' else 'WGAN'}, η = {eta:g}", fontsize=9)
                ax.set_xlabel("a", fontsize=8)
                ax.set_ylabel("w₂", fontsize=8)
        self.figure(fig, "nk_streamlines.png", "N&K Fig. 3 streamlines")
        self.lines += ["Without regularisation the WGAN field circles the equilibrium; with η > 0 it spirals in.",
                       ""]

    # --- lazy regularisation ---------------------------------------------------------------------------------
    def lazy(self):
        self.lines += ["## Lazy regularisation: the regulariser on one iteration in k, with weight k·γ", "",
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
            self.lines += [f"### {title}", "",
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
                    wd = os.path.join(self.workdir, "lazy", slugify(title.split(" (")[0]) +
                                      (f"_gamma{gamma:g}" if gamma_override else "") + f"_{method}_every{k}")
                    _, result, history = self.run(setting, method, wd, dict(overrides, **extra))
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
                    self.lines.append(
                        f"| {method} | {gamma:g} | {k} | {fmt(analysis['rho'], 6)} | {fmt(analysis['rate'], 6)} | "
                        f"{closed} | {fmt(analysis['eta_max'])} | "
                        f"{'converges' if converges else 'does not converge'} | {fmt(ratio)} | "
                        f"{'converges' if run_converges else 'does not converge'} |")
            self.lines += ["", lazy_verdict(title, broken, eta),
                           f"The runs agree with the local analysis in {rows - len(disagree)} of {rows} rows"
                           + (f"; not in: {', '.join(disagree)} (the analysis is local, about the equilibrium; "
                              f"a run starts away from it and may leave its basin, as ConOpt at large γ does "
                              f"from the Dirac-GAN's start in the paper's Appendix C, or converge too slowly "
                              f"for the 0.1 criterion in the run's iterations)." if disagree else "."), ""]
        self._lazy_mog()
        self.timing_lines = (["| case | method | k | ms per iteration |", "|---|---|---|---|"]
                             + [f"| {t} | {m} | {k} | {1000 * s:.3f} |" for t, m, k, s in timing_rows])

    def _lazy_mog(self):
        title, overrides, _, _ = self.MOG_RUNS["fig2"]
        self.lines += [f"### Mixture of Gaussians, {title.split(' (')[0]}: JARE, every ∈ "
                       f"{{{', '.join(map(str, LAZY_MOG_EVERY))}}}, {MOG_VARIANT_STEPS:,} steps", ""]
        runs = {}
        for k in LAZY_MOG_EVERY:
            one = self._mog_runs(f"lazy_r_2_every{k}", dict(overrides, **{"method.options.jare.every": k}),
                                 ("jare",), MOG_VARIANT_STEPS)
            runs[f"jare every={k}"] = one["jare"]
        self._mog_tables(runs)

    # --- the Numerics of GANs' eigenvalue plots -----------------------------------------------------------------
    def numerics(self):
        config = settings.load("mog_numerics")
        self.lines += ["## Eigenvalues at the end of training: the Numerics of GANs' mixture of Gaussians", "",
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
            wd = os.path.join(self.workdir, "numerics", method)
            _, result, _ = self.run("mog_numerics", method, wd, {})
            lam, ritz = numerics_spectra(wd, NUMERICS_K)
            scale = float(np.abs(lam).max())
            good = ritz.eigenvalues[ritz.converged]
            gap = max((float(np.min(np.abs(lam - r))) for r in good), default=float("nan")) / scale
            unstable = lam[lam.real > 1e-6 * scale]
            found[method] = (result["modes_covered"], float(np.abs(lam.imag).max()), scale, unstable.size)
            self.lines.append(
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
        self.lines.append("")
        self.figure(fig, "numerics_eigenvalues.png", "eigenvalues of the game Jacobian on mog_numerics")
        by_imag = sorted(found, key=lambda m: found[m][1])
        self.lines += ["ζ and η_max are over the eigenvalues with |λ| > 10⁻⁶·max|λ| (the rest count as zero: a "
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

    # --- Sec. 6 on a game that satisfies its assumptions -------------------------------------------------------
    SEC6_GAMES = {
        "d = 2, correlated Σ, Σ_D ≠ Σ, vanilla": dict(mean=[0.5, 2.0], cov=[[1.0, 0.3], [0.3, 0.5]],
                                                      latent_variance=1.0, disc_scale=0.7,
                                                      disc_cov=[[2.0, 0.1], [0.1, 1.0]]),
        "d = 3, diagonal Σ, reverse KL": dict(mean=[0.0, -1.0, 3.0], cov=np.diag([0.4, 1.0, 2.5]).tolist(),
                                              latent_variance=0.8, disc_scale=1.3, family="reverse_kl"),
    }

    def sec6(self):
        simgd = methods.get("gan")
        self.lines += ["## Sec. 6: Lemma 3, Theorem 4 and Theorem 5 on a realisable game", "",
                       "The game of `jare-spectrum --problem=linear_gaussian` (analysis/general_gans.py): an affine "
                       "generator G(z) = Az + b fitting N(μ, Σ) from z ~ N(0, κ²I), against D(x) = s·θᵀh(u), "
                       "u = L_D⁻¹(x − μ), h the degree-1 and -2 Hermite polynomials, at its equilibrium (A, b) = "
                       "(L/κ, μ), θ = 0, where D ≡ 0 (Assumption 1). Expectations are exact (3-point "
                       "Gauss–Hermite product rule). P and Q come from eq. 9 with hand-derived gradients; the "
                       "Jacobians from autodiff through the methods. Theorem 4's violation is the largest "
                       "eigenvalue's distance from the set of roots the theorem allows, over its |λ|, less "
                       "rounding (1e3·ε·max|λ|).", "",
                       "| game | n (G) | m (D) | rank P | Lemma 3: max block error (relative) | Theorem 4: largest "
                       "violation | zero eigenvalues (n − rank P) | λ(Q) | λ(PᵀP) |", "|---|---|---|---|---|---|---|---|---|"]
        for label, kwargs in self.SEC6_GAMES.items():
            checks = general_gans.simgd_checks(general_gans.LinearGaussian(**kwargs))
            n, m, rank = checks["generator_parameters"], checks["discriminator_parameters"], checks["rank_p"]
            errors, t4 = checks["lemma3_relative_error"], checks["theorem4"]
            self.lines.append(
                f"| {label} | {n} | {m} | {rank} | {max(errors.values()):.1e} | {t4['violation']:.1e} | "
                f"{t4['zero_eigenvalues']} ({n - rank}) | [{fmt(t4['a1_range'][0])}, {fmt(t4['a1_range'][1])}] | "
                f"[{fmt(t4['a2_range'][0])}, {fmt(t4['a2_range'][1])}] |")
        self.lines += ["", "The zero eigenvalues are the proof's y2 = 0 case: the rotations A → AR (R orthogonal), "
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
            self.lines.append(f"| {scale:g} | {fmt(cases['c'], 6)} | {fmt(cases['predicted_zeta'], 6)} | "
                              f"{fmt(measured.zeta, 6)} | {fmt(cases['predicted_tau'], 6)} | "
                              f"{fmt(measured.tau, 6)} |")
        label = next(iter(self.SEC6_GAMES))
        spec = general_gans.LinearGaussian(**self.SEC6_GAMES[label])
        game, batch = spec.game()
        p, q = spec.lemma3_formulas()
        limit = general_gans.theorem5_limit(p, q)
        self.lines += ["", f"### Theorem 5: JARE's λ/γ → −λ(PᵀP) ∪ −λ(PPᵀ) ({label})", "",
                       "Relative error: max over a one-to-one matching of |λ_i/γ − μ_i| / max|μ|.", "",
                       "| γ | relative error | ζ of JARE |", "|---|---|---|"]
        errors = []
        for gamma in SEC6_GAMMAS:
            lam = np.linalg.eigvals(jacobian.vector_field_jacobian(methods.get("jare", gamma=gamma), game, batch))
            errors.append(general_gans.theorem5_error(lam, gamma, limit))
            self.lines.append(f"| {gamma:g} | {errors[-1]:.3g} | {fmt(spectrum.phase_factor(lam))} |")
        falls = all(b < a for a, b in zip(errors, errors[1:]))
        slope = np.polyfit(np.log10(SEC6_GAMMAS[2:]), np.log10(errors[2:]), 1)[0]
        self.lines += ["", f"The error {'falls at every step' if falls else 'does not fall at every step'}; from "
                       f"γ = {SEC6_GAMMAS[2]:g} on it falls as γ^{slope:.2f} (the limit has Jordan pairs: each "
                       "nonzero λ(PᵀP) appears in both diagonal blocks, coupled by PQ, which gives γ^(−1/2)).", ""]

    def section(self, name: str) -> List[str]:
        self.lines = []
        if name == "fig1":
            self.isotropic("Isotropic Gaussian, Fig. 1 (μ = 4, σ² = 0.04, γ = 10)", [(4.0, 0.04)], "fig1")
        elif name == "fig5":
            self.isotropic("Isotropic Gaussian, Fig. 5 (σ = 0.2, μ ∈ {2, 4, 6})",
                           [(2.0, 0.04), (4.0, 0.04), (6.0, 0.04)], "fig5")
        elif name == "fig6":
            self.isotropic("Isotropic Gaussian, Fig. 6 (μ = 2, σ ∈ {0.5, 0.7})", [(2.0, 0.25), (2.0, 0.49)],
                           "fig6")
        elif name in self.MOG_RUNS:
            self.mog(name)
        elif name == "dirac":
            self.dirac()
        elif name == "nk":
            self.nk()
        elif name == "lazy":
            self.lazy()
        elif name == "numerics":
            self.numerics()
        elif name == "sec6":
            self.sec6()
        else:
            raise ValueError(f"Unknown section {name!r}; valid: {', '.join(SECTIONS)}.")
        return self.lines

    def write(self, sections) -> str:
        """Run `sections`, store each as a fragment, and assemble toy.md from every fragment present.

        A fragment's first line names the package version and commit that made it, and it holds no timings, so
        two runs of a section at one commit (in fresh workdirs) give byte-identical markdown; the runs'
        wall-clock seconds and the machine go to toy/sections/<section>.timings.json."""
        from jare_tf import provenance
        fragments = os.path.join(self.figdir, "sections")
        os.makedirs(fragments, exist_ok=True)
        source = provenance.source_version()
        for name in sections:
            self.timings, self.timing_lines = {}, []
            lines = self.section(name)
            lines.insert(1, f"_Made by `jare-reproduce toy --only={name}` at {source}._")
            lines.insert(1, "")
            _atomic_write(os.path.join(fragments, f"{name}.md"), "\n".join(lines).rstrip() + "\n")
            machine = provenance.machine()
            _atomic_write(os.path.join(fragments, f"{name}.timings.json"), json.dumps(
                {"machine": machine, "source": source, "seconds": self.timings}, indent=2) + "\n")
            timing_md = os.path.join(fragments, f"{name}.timings.md")
            if self.timing_lines:       # a section that reports its runs' times: shown with it, marked as such
                _atomic_write(timing_md, "\n".join(
                    [TIMINGS_BEGIN, "", f"Measured wall-clock time per iteration of the runs above, tracing included "
                     f"(it varies from run to run; {machine}):", ""]
                    + self.timing_lines + ["", TIMINGS_END]) + "\n")
            elif os.path.exists(timing_md):
                os.remove(timing_md)
        present = [n for n in SECTIONS if os.path.exists(os.path.join(fragments, f"{n}.md"))]
        header = ["# Toy reproductions", "",
                  "Generated by `jare-reproduce toy` (sections: " + ", ".join(present) + "); do not edit by hand. "
                  "Each section names the version and commit that made it; rerunning it there, in a fresh "
                  "--workdir, reproduces its numbers exactly (runs finished in a reused --workdir are not "
                  "retrained). The runs' wall-clock times are in toy/sections/<section>.timings.json, and per-run "
                  "outputs (TensorBoard events, metrics.json, history.json) under the command's --workdir.", ""]
        body = []
        for n in present:
            body.append(open(os.path.join(fragments, f"{n}.md"), encoding="utf-8").read())
            if os.path.exists(os.path.join(fragments, f"{n}.timings.md")):
                body.append(open(os.path.join(fragments, f"{n}.timings.md"), encoding="utf-8").read())
        path = os.path.join(self.report_dir, "toy.md")
        _atomic_write(path, "\n".join(header) + "\n" + "\n".join(body))
        return path


def _atomic_write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
