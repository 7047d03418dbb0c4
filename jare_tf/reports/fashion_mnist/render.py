"""The Fashion-MNIST report as a pure function of its stored run records (`store`): the same records give the
same markdown and figures byte for byte, on any machine, without TensorFlow or a classifier. The rules it
applies to each run are in rules.py, its figures in figures.py."""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from jare_tf.reports.fashion_mnist.figures import Figures
from jare_tf.reports.fashion_mnist.rules import (COLLAPSED_CLASSES, FLAT_FACTOR, OUTCOMES, SCORES, SIGNIFICANCE,
                                                 STALLED_RATIO, effective_classes, learns_steadily, mean_std,
                                                 outcome, welch_p)

def sources_text(sources: Sequence[str]) -> str:
    """"jare_tf 0.1.0, commit a", "jare_tf 0.1.0, commit b" → "jare_tf 0.1.0, commits a, b" (one version's commits
    together; other source lines as they are)."""
    by_version: Dict[str, List[str]] = {}
    for source in sorted(sources):
        version, _, commit = source.partition(", commit ")
        by_version.setdefault(version if commit else source, []).append(commit)
    return "; ".join(f"{v}, commit{'s' if len(c) > 1 else ''} {', '.join(c)}" if all(c) else v
                     for v, c in by_version.items())


def step_label(label: str):
    """A method label → (its label without the run's lr_scale, the lr_scale: 1 when absent)."""
    parts = label.split(":")
    scale = [float(p.split("=", 1)[1]) for p in parts[1:] if p.startswith("lr_scale=")]
    return ":".join(p for p in parts if not p.startswith("lr_scale=")), (scale[0] if scale else 1.0)


def step_grid(methods: Sequence[str]) -> bool:
    """A grid of one method at several step sizes (the step-size page's form)."""
    return len({step_label(m)[1] for m in methods}) > 2


@dataclasses.dataclass
class Page:
    """What the renderer needs beyond the records: the grid (grids.Grid: settings, methods, seeds,
    steps, eval_every, n_fake, lr_scale, report, title, pilot), the command's --grid flag, and two texts."""
    grid: object
    flag: str
    #: A pilot's page: the protocol the grid was given from it, and why (grids.PILOT_DECISION).
    chosen: str = ""
    #: A grid's page: where its protocol comes from.
    origin: str = ""

    def __getattr__(self, name):
        return getattr(self.grid, name)


class Renderer(Figures):
    def __init__(self, page: Page, loaded, report_dir: str):
        self.page, self.loaded, self.report_dir = page, loaded, report_dir
        self.figdir = os.path.join(report_dir, page.report)
        self.runs = [loaded.runs[(s, m, seed)] for s in page.settings for m in page.methods for seed in page.seeds
                     if (s, m, seed) in loaded.runs]

    # --- helpers ----------------------------------------------------------------------------------------------
    def of(self, setting: str, method: str) -> List[Dict[str, object]]:
        return [r for r in self.runs if r["setting"] == setting and r["method"] == method]

    def settings_present(self) -> List[str]:
        return [s for s in self.page.settings if any(r["setting"] == s for r in self.runs)]

    def codes(self) -> Dict[str, List[str]]:
        """training-code sha256 → the commits (source lines) that made rows with it."""
        out: Dict[str, List[str]] = {}
        for r in self.runs:
            out.setdefault(r["training_code_sha256"], [])
            if r["source"] not in out[r["training_code_sha256"]]:
                out[r["training_code_sha256"]].append(r["source"])
        return out

    def code_class(self, run: Dict[str, object]) -> str:
        """A row's training code up to equivalence (`store.Loaded.codes_like`): the first of its class."""
        return self.loaded.codes_like(run["training_code_sha256"], f"{run['setting']}:{run['method']}")[0]

    def majority_code(self) -> Optional[str]:
        counts: Dict[str, int] = {}
        for r in self.runs:
            counts[self.code_class(r)] = counts.get(self.code_class(r), 0) + 1
        return max(sorted(counts), key=lambda c: counts[c]) if counts else None

    def equivalence_text(self) -> str:
        """The equivalence records that join a row's code to another (a later code the rows count as, or another
        row's), one clause each."""
        shown = {r["training_code_sha256"] for r in self.runs}
        parts = []
        for e in sorted(self.loaded.equivalences, key=lambda e: (e["stored_at"], e["training_code_sha256"])):
            if e["training_code_sha256"] in shown or e["equivalent_to"] in shown:
                identical = sum(1 for c in e["cases"].values() if c["identical"])
                spread = [case for case, c in sorted(e["cases"].items()) if c["spread"] > 0]
                parts.append(f"`{e['training_code_sha256'][:12]}` trains the trajectories of `{e['equivalent_to'][:12]}`"
                             f" (`jare-reproduce fashion_mnist{self.page.flag} --check_code`: the first {e['steps']} "
                             f"iterations of {len(e['cases'])} cases, {identical} bit for bit, the others within "
                             f"{e['rtol']:g} of each variable's displacement"
                             + (f" or, for {', '.join(spread)}, which the code itself does not repeat, within "
                                f"{e['spread_factor']:g}× its own run-to-run spread" if spread else "") + ")")
        return "; ".join(parts)

    # --- the page ---------------------------------------------------------------------------------------------
    def markdown(self) -> str:
        lines = self.header()
        if not self.runs:
            lines += ["No run of this grid is stored yet: `jare-reproduce fashion_mnist" + self.page.flag +
                      "` trains and stores them.", ""]
        else:
            if self.page.pilot:
                lines += self.pilot_section()
            lines += self.per_run_table()
            if not self.page.pilot:
                lines += self.aggregate_table()
            if step_grid(self.page.methods) and not self.page.pilot:
                lines += self.step_sizes() + self.limits()
                return "\n".join(lines) + "\n"
            lines += self.curves()
            if not self.page.pilot:
                lines += self.fig3()
                lines += self.histograms()
                lines += self.robustness()
            lines += self.samples()
            lines += self.limits()
        return "\n".join(lines) + "\n"

    def header(self) -> List[str]:
        p, loaded = self.page, self.loaded
        lines = [f"# {p.title}", "",
                 f"Rendered by `jare-reproduce fashion_mnist{p.flag}` from the {len(self.runs)} stored run records "
                 f"of [`{p.store_name}/runs/`]({p.store_name}/runs) (one JSON file per finished run: its scores at every "
                 f"checkpoint, final metrics, seconds, resolved config, commit, machine and training-code "
                 f"sha256); the same records render this page byte for byte, and the command skips the runs "
                 f"already stored for the same protocol and training code.", ""]
        lines += ["**Protocol.** Real images: Fashion-MNIST's 60,000 training images, 28×28 grayscale zero-padded "
                  "(with the background value, −1) to 32×32×1, scaled to [−1, 1]. Each setting as configured in "
                  "`configs/` (architecture with one input/output channel, optimizer, batch 64, z ∈ R¹²⁸, "
                  "non-saturating loss, ConOpt γ = 10, JARE γ = 100) for "
                  f"**{p.steps} iterations** (the paper trains 500,000) at "
                  + ("**the settings' own learning rates** (Adam and RMSProp 1e-4)" if p.lr_scale == 1.0 else
                     f"**{p.lr_scale:g}× the settings' learning rates**")
                  + f", seeds {', '.join(map(str, p.seeds))}; a checkpoint every {p.eval_every} iterations and at "
                  f"0, each scored on **{p.n_fake} samples**: FID and KID against the whole training split, IS in "
                  "10 splits (TF-GAN's eval functions), improved precision and recall (k = 3) and density and "
                  "coverage (k = 5) against as many stored real features, and the histogram of the classes the "
                  "classifier assigns to the samples. The network is the package's Fashion-MNIST classifier "
                  "(FID/KID/precision/recall on its 128-d penultimate features, IS and classes from its logits); "
                  "these are not CIFAR-10 Inception numbers and not comparable with them."
                  + (f" {p.origin}" if p.origin else ""), ""]
        classifiers = sorted({(rec["provenance"]["network_sha256"], rec["provenance"]["classifier"],
                               rec["provenance"].get("classifier_test_accuracy"))
                              for r in self.runs for rec in r["records"]})
        for sha, name, accuracy in classifiers:
            floor = loaded.floors.get(sha)
            text = (f"**Classifier** `{name}` (weights sha256 `{sha[:16]}…`"
                    + (f", test accuracy {accuracy:.4f}" if accuracy is not None else "") + ")")
            if floor:
                f = floor["floor"]
                text += (f". **Floor**: FID(test split vs training split) = **{f['fid']:.3f}** (real images, "
                         f"{f['n_test']} vs {f['n_train']}; IS of the test images {f['is_mean']:.2f}, KID "
                         f"{f['kid_mean']:.5f}"
                         + (f"; precision {f['precision']:.3f}, recall {f['recall']:.3f}, density {f['density']:.3f}, "
                            f"coverage {f['coverage']:.3f} with {f['manifold_n']} of each" if "recall" in f else "")
                         + "); the ceiling is each run's step-0 FID (the untrained generator).")
            else:
                text += ". Its floor (FID of the test split) is not stored."
            lines += [text, ""]
        if len(classifiers) > 1:
            lines += [f"**Mixture of classifiers**: the rows are scored by {len(classifiers)} different networks; "
                      "scores of different networks are not comparable.", ""]
        codes = self.codes()
        classes = {self.code_class(r) for r in self.runs}
        if codes:
            listed = "; ".join(f"`{c[:12]}` ({sources_text(s)})" for c, s in sorted(codes.items()))
            lines += [f"**Training code** (sha256 of the files that compute a trajectory, "
                      f"`provenance.TRAINING_CODE`): {listed}."
                      + (f" Equivalent: {self.equivalence_text()}." if self.equivalence_text() else "")
                      + (f" **Mixture**: rows made by {len(classes)} training codes; the rows marked † were made by "
                         f"another code than the majority's `{self.majority_code()[:12]}`." if len(classes) > 1 else
                         ""),
                      ""]
            machines = sorted({r["machine"] for r in self.runs})
            train = sum(r["timing"]["train_seconds"] for r in self.runs)
            evals = sum(r["timing"]["eval_seconds"] for r in self.runs)
            lines += [f"**Compute.** {train / 60:.1f} min training + {evals / 60:.1f} min scoring = "
                      f"**{(train + evals) / 3600:.2f} h** for the {len(self.runs)} stored runs, on "
                      + "; ".join(machines) + ".", ""]
        expected = len(p.settings) * len(p.methods) * len(p.seeds)
        if len(self.runs) < expected:
            missing = [f"{s} {m} seed {seed}" for s in p.settings for m in p.methods for seed in p.seeds
                       if (s, m, seed) not in loaded.runs]
            lines += [f"**Incomplete**: {len(self.runs)} of the grid's {expected} runs are stored; not yet: "
                      + ", ".join(missing) + ".", ""]
        if loaded.skipped:
            lines += ["**Skipped record files** (named, never mixed in): "
                      + "; ".join(f"`{name}`: {why}" for name, why in sorted(loaded.skipped.items())) + ".", ""]
        return lines

    def pilot_section(self) -> List[str]:
        p = self.page
        lengths = sorted({rec["step"] for r in self.runs for rec in r["records"]
                          if rec["step"] >= 2 * p.eval_every and rec["step"] % (2 * p.eval_every) == 0})
        lines = ["## The pilot: at which learning rate and length does plain GAN learn steadily?", "",
                 f"The rule, on every seed of a row: at length L the FID is at most {STALLED_RATIO:g} × its step-0 "
                 f"value and within {FLAT_FACTOR:g}× the lowest FID the run reached by L (still falling or flat). "
                 "`lr_scale` multiplies both players' learning rates (Adam 1e-4 on setting C).", "",
                 "| run | seed | FID at 0 | " + " | ".join(f"FID at {n} (ratio)" for n in lengths) +
                 " | classes at the end |", "|---|---:|---:|" + "---:|" * len(lengths) + "---:|"]
        verdicts = []
        for method in p.methods:
            runs = [r for r in self.runs if r["method"] == method]
            for r in runs:
                by_step = {rec["step"]: rec["fid"] for rec in r["records"]}
                cells = [f"{by_step[n]:.1f} ({by_step[n] / by_step[0]:.2f})"
                         + ("" if learns_steadily(r["records"], n) else " ✗") if n in by_step else "–"
                         for n in lengths]
                last = r["records"][-1]
                classes = f"{effective_classes(last['class_histogram']):.1f}" if "class_histogram" in last else "–"
                lines.append(f"| {method} | {r['seed']} | {by_step[0]:.1f} | " + " | ".join(cells) + f" | {classes} |")
            if runs:
                meets = [n for n in lengths if all(any(rec["step"] == n for rec in r["records"])
                                                   and learns_steadily(r["records"], n) for r in runs)]
                verdicts.append(f"- `{method}` ({len(runs)} seed{'s' if len(runs) > 1 else ''}): "
                                + (f"every seed meets the rule from {meets[0]} iterations." if meets else
                                   "no length of the pilot meets the rule on every seed."))
        lines += ["", "✗: the rule fails at that length for that seed. Classes: the effective number of classes of "
                  "the final samples under the domain classifier (10 for the data, 1 when every sample is the same "
                  "garment).", ""] + verdicts + [""]
        if p.chosen:
            lines += [f"**The grid's protocol.** {p.chosen}", ""]
        return lines

    def per_run_table(self) -> List[str]:
        majority = self.majority_code()
        lines = ["## Every run", "",
                 f"Outcome rule: **diverged** if training stopped at a non-finite value; else **collapsed** if the "
                 f"effective number of classes of the final samples (exp of the entropy of their class histogram "
                 f"under the domain classifier; the training split has 10.0) is below {COLLAPSED_CLASSES:g}, "
                 f"whatever the FID; else **stalled** if the final FID is above {STALLED_RATIO:g} × the step-0 FID; "
                 f"else **learned**. Precision and density ask whether the samples look like training images, "
                 f"recall and coverage whether the training images are covered by the samples (the floor above gives "
                 f"their values for real images against real images): a recall near 0 beside a precision well above 0 "
                 f"says the samples lie among real images but spread over a small part of them.", "",
                 "| setting | method | seed | FID at 0 | final FID | best FID (step) | IS | KID | precision | recall "
                 "| density | coverage | classes | outcome | train s | commit |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
        for r in self.runs:
            records, last = r["records"], r["records"][-1]
            best = min(records, key=lambda rec: rec["fid"])
            classes = (f"{effective_classes(last['class_histogram']):.1f}" if "class_histogram" in last else "–")
            commit = r["source"].split("commit ")[-1] + (" †" if self.code_class(r) != majority else "")
            cells = [f"{last[k]:.3f}" if k in last else "–" for k in ("precision", "recall", "density", "coverage")]
            lines.append(f"| {r['setting']} | {r['method']} | {r['seed']} | {records[0]['fid']:.1f} | "
                         f"{last['fid']:.2f} | {best['fid']:.2f} ({best['step']}) | {last['is_mean']:.2f} | "
                         f"{last['kid_mean']:.4f} | " + " | ".join(cells) + f" | {classes} | {outcome(r)} | "
                         f"{r['timing']['train_seconds']:.0f} | {commit} |")
        failed = [r for r in self.runs if "failed" in r["timing"]]
        for r in failed:
            lines.append(f"\n{r['setting']} {r['method']} seed {r['seed']}: {r['timing']['failed']}; scores of step "
                         f"{r['records'][-1]['step']}, its last finite checkpoint.")
        return lines + [""]

    def aggregate_table(self) -> List[str]:
        lines = ["## Per setting and method: mean ± std over seeds", "",
                 "| setting | method | seeds | final FID | best FID | final IS | best IS | final KID | best KID | "
                 "precision | recall | density | coverage | outcomes |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for s in self.settings_present():
            for m in self.page.methods:
                runs = self.of(s, m)
                if not runs:
                    continue
                finals = {k: [r["records"][-1].get(k) for r in runs] for k, _, _ in SCORES}
                best_fid = [min(rec["fid"] for rec in r["records"]) for r in runs]
                best_is = [max(rec["is_mean"] for rec in r["records"]) for r in runs]
                best_kid = [min(rec["kid_mean"] for rec in r["records"]) for r in runs]
                counts = {o: sum(outcome(r) == o for r in runs) for o in OUTCOMES}
                lines.append(
                    f"| {s} | {m} | {len(runs)} | {mean_std(finals['fid'], 2)} | {mean_std(best_fid, 2)} | "
                    f"{mean_std(finals['is_mean'], 2)} | {mean_std(best_is, 2)} | {mean_std(finals['kid_mean'], 4)} | "
                    f"{mean_std(best_kid, 4)} | " + " | ".join(mean_std(finals[k], 3) for k in
                                                               ("precision", "recall", "density", "coverage"))
                    + " | " + ", ".join(f"{n} {o}" for o, n in counts.items() if n) + " |")
        return lines + [""]

    def robustness(self) -> List[str]:
        chosen = self.settings_present()
        lines = ["## Robustness (the paper's Fig. 3 claim)", "",
                 f"Ranking per setting by mean final FID; between neighbours in the ranking, whether the "
                 f"difference exceeds the seed-to-seed spread (Welch's t-test on the per-seed final FIDs, "
                 f"p < {SIGNIFICANCE:g}).", ""]
        for s in chosen:
            ranked = sorted((np.mean([r["records"][-1]["fid"] for r in self.of(s, m)]), m)
                            for m in self.page.methods if self.of(s, m))
            parts = [f"{ranked[0][1]} {ranked[0][0]:.1f}"]
            for (v0, m0), (v1, m1) in zip(ranked, ranked[1:]):
                p = welch_p([r["records"][-1]["fid"] for r in self.of(s, m0)],
                            [r["records"][-1]["fid"] for r in self.of(s, m1)])
                sign = "<" if p is not None and p < SIGNIFICANCE else "≈"
                parts.append(f"{sign} {m1} {v1:.1f}" + (f" (p = {p:.2g})" if p is not None else " (p: –)"))
            lines.append(f"- Setting {s}: " + " ".join(parts) + ".")
        worst = []
        for m in self.page.methods:
            means = {s: np.mean([r["records"][-1]["fid"] for r in self.of(s, m)]) for s in chosen if self.of(s, m)}
            if len(means) == len(chosen):
                s_worst = max(means, key=means.get)
                worst.append((means[s_worst], m, s_worst))
        if worst:
            lines.append("- Each method's worst setting (mean final FID), most robust first: "
                         + ", ".join(f"{m} {v:.1f} on {s}" for v, m, s in sorted(worst)) + ".")
        outcomes = {m: [outcome(r) for s in chosen for r in self.of(s, m)] for m in self.page.methods}
        lines.append("- Outcomes over all settings and seeds: "
                     + "; ".join(f"{m}: " + ", ".join(f"{o.count(x)} {x}" for x in OUTCOMES if o.count(x))
                                 for m, o in outcomes.items() if o) + ".")
        return lines + [""]

    def step_sizes(self) -> List[str]:
        """Which method tolerates which step: per method and learning-rate factor, each seed's outcome and final
        FID, and the mean final FID and recall."""
        bases = list(dict.fromkeys(step_label(m)[0] for m in self.page.methods))
        scales = sorted({step_label(m)[1] for m in self.page.methods})
        lines = ["## Step sizes each method tolerates", "",
                 "Both players' learning rates at the factor × the setting's (Adam 1e-4 on C). A cell: each seed's "
                 "outcome (learned, stalled, collapsed, diverged) with its final FID, then the mean final FID and "
                 "recall over the seeds stored.", "",
                 "| method | " + " | ".join(f"{s:g}×" for s in scales) + " |", "|---|" + "---|" * len(scales)]
        for base in bases:
            cells = []
            for scale in scales:
                label = next((m for m in self.page.methods if step_label(m) == (base, scale)), None)
                runs = [r for s in self.settings_present() for r in self.of(s, label)] if label else []
                if not runs:
                    cells.append("–")
                    continue
                seeds = ", ".join(f"{outcome(r)} {r['records'][-1]['fid']:.0f}" for r in runs)
                cells.append(f"{seeds}; mean FID {np.mean([r['records'][-1]['fid'] for r in runs]):.1f}, recall "
                             f"{np.mean([r['records'][-1].get('recall', np.nan) for r in runs]):.3f}")
            lines.append(f"| {base} | " + " | ".join(cells) + " |")
        tolerated = []
        for base in bases:
            ok = [s for s in scales if (label := next((m for m in self.page.methods
                                                        if step_label(m) == (base, s)), None))
                  and self.of(self.page.settings[0], label)
                  and all(outcome(r) == "learned" for r in self.of(self.page.settings[0], label))]
            tolerated.append(f"{base}: " + (", ".join(f"{s:g}×" for s in ok) if ok else "none"))
        lines += ["", "Factors at which every stored seed learned: " + "; ".join(tolerated) + ".", ""]
        return lines

    def samples(self) -> List[str]:
        p = self.page
        lines = ["## Samples at the last iteration (8×8, fixed latents)", "",
                 "| setting | " + " | ".join(self.page.methods) + " |", "|---|" + "---|" * len(self.page.methods)]
        for setting in self.settings_present():
            cells = []
            for method in self.page.methods:
                cell = []
                for r in self.of(setting, method):
                    name = f"samples/{r['setting']}_{r['method'].replace(':', '_').replace('=', '')}_seed{r['seed']}.png"
                    if os.path.exists(os.path.join(self.report_dir, p.store_name, name)):
                        cell.append(f"![{setting} {method} seed {r['seed']}]({p.store_name}/{name})")
                cells.append(" ".join(cell) or "–")
            lines.append(f"| {setting} | " + " | ".join(cells) + " |")
        return lines + [""]

    def limits(self) -> List[str]:
        p = self.page
        return ["## What this does not show", "",
                f"- {p.steps} iterations are {100 * p.steps / 500000:.2g} % of the paper's runs: these are "
                "early-training scores, where some of the paper's failures (late mode collapse, divergence) need not "
                "have appeared yet.",
                f"- {len(p.seeds)} seeds per cell: a difference the t-test does not separate is within seed-to-seed "
                "variation here, not evidence of equality.",
                "- Fashion-MNIST with a 128-d domain classifier is not CIFAR-10 with Inception; the settings' "
                "architectures and optimizers are the paper's, the data and the scale are not.", ""]

