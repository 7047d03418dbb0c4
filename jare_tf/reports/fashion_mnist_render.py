"""The Fashion-MNIST report as a pure function of its stored run records (`run_store`): the same records give the
same markdown and figures byte for byte, on any machine, without TensorFlow or a classifier.

What a run's outcome is (stated in the report, applied to every seed):
* diverged — training stopped at a non-finite value (its scores are those of its last finite checkpoint);
* collapsed — otherwise, the classes the domain classifier assigns to its final samples have an effective number
  (exp of the histogram's entropy) below COLLAPSED_CLASSES of 10 (the training split: 10.0), whatever its FID;
* stalled — otherwise, its final FID is above STALLED_RATIO × its step-0 FID (the untrained generator's);
* learned — otherwise.
Differences between methods "exceed the seed-to-seed spread" when Welch's t-test on the per-seed final FIDs gives
p < SIGNIFICANCE.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jare_tf.evaluation import plots  # noqa: E402

STALLED_RATIO = 0.6
COLLAPSED_CLASSES = 5.0
SIGNIFICANCE = 0.05
#: The pilot's rule for "learns steadily": FID at most STALLED_RATIO × step 0, and at the end within this factor
#: of the lowest FID the run reached (still falling or flat).
FLAT_FACTOR = 1.05
OUTCOMES = ("learned", "stalled", "collapsed", "diverged")
SCORES = (("fid", "FID", 2), ("is_mean", "IS", 2), ("kid_mean", "KID", 4), ("precision", "precision", 3),
          ("recall", "recall", 3), ("density", "density", 3), ("coverage", "coverage", 3))


def effective_classes(histogram: Sequence[int]) -> float:
    counts = np.asarray(histogram, np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def outcome(run: Dict[str, object]) -> str:
    records = run["records"]
    if "failed" in run["timing"]:
        return "diverged"
    if "class_histogram" in records[-1] and effective_classes(records[-1]["class_histogram"]) < COLLAPSED_CLASSES:
        return "collapsed"
    if records[-1]["fid"] > STALLED_RATIO * records[0]["fid"]:
        return "stalled"
    return "learned"


def learns_steadily(records: Sequence[Dict[str, object]], until: int) -> bool:
    """The pilot's rule on the records up to step `until`."""
    fids = [r["fid"] for r in records if r["step"] <= until]
    return fids[-1] <= STALLED_RATIO * fids[0] and fids[-1] <= FLAT_FACTOR * min(fids)


def welch_p(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Two-sided p of Welch's t-test (None with fewer than two values on a side or no spread at all)."""
    from scipy import stats
    if len(a) < 2 or len(b) < 2 or (np.std(a) == 0 and np.std(b) == 0):
        return None
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def mean_std(values: Sequence[float], digits: int) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}" if len(values) > 1 else \
        f"{values[0]:.{digits}f}"


def sources_text(sources: Sequence[str]) -> str:
    """"jare_tf 0.1.0, commit a", "jare_tf 0.1.0, commit b" → "jare_tf 0.1.0, commits a, b" (one version's commits
    together; other source lines as they are)."""
    by_version: Dict[str, List[str]] = {}
    for source in sorted(sources):
        version, _, commit = source.partition(", commit ")
        by_version.setdefault(version if commit else source, []).append(commit)
    return "; ".join(f"{v}, commit{'s' if len(c) > 1 else ''} {', '.join(c)}" if all(c) else v
                     for v, c in by_version.items())


@dataclasses.dataclass
class Page:
    """What the renderer needs beyond the records: the grid (fashion_mnist_report.Grid: settings, methods, seeds,
    steps, eval_every, n_fake, lr_scale, report, title, pilot), the command's --grid flag, and two texts."""
    grid: object
    flag: str
    #: A pilot's page: the protocol the grid was given from it, and why (fashion_mnist_report.PILOT_DECISION).
    chosen: str = ""
    #: A grid's page: where its protocol comes from.
    origin: str = ""

    def __getattr__(self, name):
        return getattr(self.grid, name)


class Renderer:
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
        """A row's training code up to equivalence (`run_store.Loaded.codes_like`): the first of its class."""
        return self.loaded.codes_like(run["training_code_sha256"], f"{run['setting']}:{run['method']}")[0]

    def majority_code(self) -> Optional[str]:
        counts: Dict[str, int] = {}
        for r in self.runs:
            counts[self.code_class(r)] = counts.get(self.code_class(r), 0) + 1
        return max(sorted(counts), key=lambda c: counts[c]) if counts else None

    def equivalence_text(self) -> str:
        """The equivalence records that join the rows' codes, one clause each."""
        shown = {r["training_code_sha256"] for r in self.runs}
        parts = []
        for e in sorted(self.loaded.equivalences, key=lambda e: (e["stored_at"], e["training_code_sha256"])):
            if e["training_code_sha256"] in shown and e["equivalent_to"] in shown:
                identical = sum(1 for c in e["cases"].values() if c["identical"])
                parts.append(f"`{e['training_code_sha256'][:12]}` trains the trajectories of `{e['equivalent_to'][:12]}`"
                             f" (`jare-reproduce fashion_mnist{self.page.flag} --check_code`: the first {e['steps']} "
                             f"iterations of {len(e['cases'])} cases, {identical} bit for bit, the others within "
                             f"{e['rtol']:g} of each variable's displacement)")
        return "; ".join(parts)

    def _save(self, fig, name: str, caption: str) -> str:
        plots.check_readable(fig)
        os.makedirs(self.figdir, exist_ok=True)
        fig.savefig(os.path.join(self.figdir, name), dpi=plots.REPORT_DPI, bbox_inches="tight",
                    metadata={"Software": None})
        plt.close(fig)
        return f"![{caption}]({self.page.report}/{name})"

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
                 f"of [`{p.report}/runs/`]({p.report}/runs) (one JSON file per finished run: its scores at every "
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

    def curves(self) -> List[str]:
        chosen = self.settings_present()
        fig, axes = plt.subplots(2, len(chosen), figsize=(max(6.4, 4.6 * len(chosen)), 7.2), squeeze=False,
                                 constrained_layout=True)
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for column, setting in enumerate(chosen):
            for i, method in enumerate(self.page.methods):
                for n, r in enumerate(self.of(setting, method)):
                    steps = np.array([rec["step"] for rec in r["records"]])
                    fid = [rec["fid"] for rec in r["records"]]
                    per_step = r["timing"]["train_seconds"] / max(r["records"][-1]["step"], 1)
                    label = method if n == 0 else None
                    axes[0, column].plot(steps, fid, color=colours[i % len(colours)], marker=".", lw=1, label=label)
                    axes[1, column].plot(steps * per_step, fid, color=colours[i % len(colours)], marker=".", lw=1,
                                         label=label)
            for row, xlabel in enumerate(("iteration", "training seconds (the run's mean rate)")):
                axes[row, column].set_title(f"setting {setting}", fontsize=10)
                axes[row, column].set_xlabel(xlabel, fontsize=8)
                axes[row, column].set_ylabel("FID (Fashion-MNIST classifier)", fontsize=8)
                axes[row, column].legend(fontsize=7)
        return ["## FID against iteration and against training seconds", "",
                "One line per seed. The lower row puts each checkpoint at its iteration × the run's mean seconds "
                "per iteration (its recorded training seconds over its iterations), so a method whose iteration "
                "costs more (JARE about 2.2×, ConOpt 2.9× a GAN iteration here: docs/results/speed.md) moves "
                "right. The seconds are those each run recorded: the wall time of its training calls on its machine, "
                "which other jobs may have shared; a call killed before it ended is not counted.", "",
                self._save(fig, "fid_curves.png", "FID against iteration and seconds, one column per setting"), ""]

    def fig3(self) -> List[str]:
        chosen = self.settings_present()
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), constrained_layout=True)
        methods = self.page.methods
        width = 0.8 / len(methods)
        for panel, (key, label) in enumerate((("fid", "final FID (lower is better)"),
                                              ("is_mean", "final IS (higher is better)"),
                                              ("recall", "final recall (higher is better)"))):
            ax = axes[panel]
            for i, method in enumerate(methods):
                x0 = np.arange(len(chosen)) + (i - (len(methods) - 1) / 2) * width
                for x, setting in zip(x0, chosen):
                    values = [r["records"][-1].get(key) for r in self.of(setting, method)]
                    values = [v for v in values if v is not None]
                    if values:
                        ax.bar(x, np.mean(values), width, color=f"C{i}", alpha=0.35,
                               label=method if setting == chosen[0] else None)
                        ax.scatter(np.full(len(values), x), values, color=f"C{i}", s=14, zorder=3)
            ax.set_xticks(np.arange(len(chosen)), chosen)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("setting", fontsize=8)
            ax.set_ylabel(label.split(" (")[0] + " (bar: mean; dots: seeds)", fontsize=8)
            ax.legend(fontsize=7, ncol=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.14))
        return ["## Fig. 3 form: final scores per setting, every seed", "",
                self._save(fig, "fig3.png", "Final FID, IS and recall per setting and method, with every seed"), ""]

    def histograms(self) -> List[str]:
        chosen = self.settings_present()
        methods = self.page.methods
        fig, axes = plt.subplots(len(chosen), len(methods), figsize=(max(6.4, 3.0 * len(methods)), max(4.0, 2.6 * len(chosen))),
                                 squeeze=False, constrained_layout=True)
        for row, setting in enumerate(chosen):
            for column, method in enumerate(methods):
                ax = axes[row, column]
                runs = [r for r in self.of(setting, method) if "class_histogram" in r["records"][-1]]
                for n, r in enumerate(runs):
                    h = np.asarray(r["records"][-1]["class_histogram"], np.float64)
                    ax.bar(np.arange(10) + (n - (len(runs) - 1) / 2) * 0.8 / max(len(runs), 1), h / h.sum(),
                           0.8 / max(len(runs), 1), label=f"seed {r['seed']}")
                ax.axhline(0.1, color="grey", lw=0.8, ls="--")
                ax.set_title(f"{setting} {method}", fontsize=9)
                ax.set_xticks(range(10))
                ax.set_xlabel("class", fontsize=7)
                ax.set_ylabel("share of samples", fontsize=7)
                ax.tick_params(labelsize=6)
                if runs:
                    ax.legend(fontsize=5)
        return ["## Class histograms of the final samples", "",
                "The classes the domain classifier assigns to each run's final samples (0 T-shirt, 1 trouser, "
                "2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot); the dashed line "
                "is the training split's 10 % per class.", "",
                self._save(fig, "class_histograms.png", "Class histograms of the final samples"), ""]

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

    def samples(self) -> List[str]:
        lines = ["## Samples at the last iteration (8×8, fixed latents)", "",
                 "| setting | " + " | ".join(self.page.methods) + " |", "|---|" + "---|" * len(self.page.methods)]
        for setting in self.settings_present():
            cells = []
            for method in self.page.methods:
                cell = []
                for r in self.of(setting, method):
                    name = f"samples/{r['setting']}_{r['method'].replace(':', '_').replace('=', '')}_seed{r['seed']}.png"
                    if os.path.exists(os.path.join(self.figdir, name)):
                        cell.append(f"![{setting} {method} seed {r['seed']}]({self.page.report}/{name})")
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

