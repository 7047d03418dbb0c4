"""`jare-reproduce fashion_mnist`: the JARE paper's Fig. 3 comparison — GAN, SN-GAN, ConOpt and JARE across the
image settings — on real images at a scale two CPU cores can run: Fashion-MNIST (padded to 32×32, one channel)
instead of CIFAR-10, scored with the package's Fashion-MNIST classifier (`evaluation.domain_classifier`) instead
of Inception.

Protocol (one `Grid`): each run trains `steps` iterations of the setting as configured (architecture, optimizer,
batch 64, γ of the method), checkpoints every `eval_every` steps and at step 0, and every checkpoint is scored:
FID and KID of `n_fake` samples against the whole training split (60,000 images, statistics cached), IS of the
same samples in 10 splits. For scale the report gives FID(test split vs training split), the floor a perfect
generator would reach with 10,000 samples, and the step-0 FID of every run (the untrained generator), the ceiling.

Resumable: each run is a jare-train workdir under --workdir; running the command again continues unfinished runs,
skips evaluated checkpoints and regenerates the report from what is finished, so a grid can be completed over
several sittings. Each run's train and eval seconds are recorded in its workdir (`reproduce_timing.json`) and the
report's wall time is their sum plus the one-off costs of the sitting that made them.
"""

import dataclasses
import json
import os
import shutil
import time
from typing import Callable, Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jare_tf import provenance, settings  # noqa: E402
from jare_tf.data import images  # noqa: E402
from jare_tf.evaluation import domain_classifier, image_metrics, plots  # noqa: E402
from jare_tf.evaluation.evaluator import Evaluator, Protocol, checkpoint_step  # noqa: E402
from jare_tf.training.workdir import NonFiniteError, write_json  # noqa: E402

METHODS = ("gan", "sngan", "conopt", "jare")
IMAGE_SETTINGS = ("A", "B", "C", "D", "E", "F")


@dataclasses.dataclass(frozen=True)
class Grid:
    settings: Sequence[str]
    methods: Sequence[str]
    seeds: Sequence[int]
    steps: int
    eval_every: int
    n_fake: int
    #: Both players' learning rates are the setting's times this (the short grid compresses training 1000-fold
    #: and raises the step size to get past the first blobs; the same factor for every method and setting).
    lr_scale: float = 1.0
    #: The report's name: <report>.md and its figures in <report>/ under --report_dir.
    report: str = "fashion_mnist"
    title: str = "Fashion-MNIST: GAN, SN-GAN, ConOpt and JARE across settings (JARE paper Fig. 3, small scale)"


#: default: what two CPU cores finish in under an hour (measured in the report). full: the settings' own learning
#: rates, longer, all settings and 3 seeds: for GPUs.
GRIDS = {
    # Issue 24's pilot: plain GAN on setting C at the setting's own learning rate (Adam 1e-4), long enough to see
    # whether and when it learns; the grid's protocol is chosen from its curves.
    "pilot": Grid(("C",), ("gan",), (1, 2, 3), 3000, 250, 5000, report="fashion_mnist_pilot",
                  title="Fashion-MNIST, setting C: the pilot that chooses the grid's protocol (plain GAN, Adam 1e-4)"),
    "default": Grid(("C", "D", "E"), METHODS, (1,), 500, 100, 5000, lr_scale=5.0),
    "full": Grid(IMAGE_SETTINGS, METHODS, (1, 2, 3), 20000, 2000, 10000),
    # Issue 16's lazy regularisation on real images: JARE with its regulariser on one iteration in 4 (weight 4γ),
    # beside exact JARE, in the default grid's protocol (methods are labels: `name:option=value`).
    "lazy": Grid(("C",), ("jare", "jare:every=4"), (1,), 500, 100, 5000, lr_scale=5.0,
                 report="fashion_mnist_lazy",
                 title="Fashion-MNIST, setting C: lazy JARE (every = 4) beside exact JARE (issue 16)"),
}


def grid_flag(grid: Grid) -> str:
    """The --grid flag that makes `grid` ('' for the default)."""
    name = next((k for k, v in GRIDS.items() if v == grid), "default")
    return "" if name == "default" else f" --grid={name}"


def slug(method: str) -> str:
    """A method label as a file name: jare:every=4 → jare_every4."""
    return method.replace(":", "_").replace("=", "")


def protocol(grid: Grid) -> Protocol:
    return Protocol(f"fashion_mnist_{grid.n_fake}", grid.n_fake, None, None, 10, "none", False)


def select(grid: Grid, only: Optional[Sequence[str]]) -> Grid:
    """--only: setting letters and method names (e.g. C,E,jare); each kind given narrows that kind of the grid."""
    if not only:
        return grid
    unknown = [x for x in only if x not in IMAGE_SETTINGS and x not in METHODS and x not in grid.methods]
    if unknown:
        raise ValueError(f"--only: unknown {unknown}; fashion_mnist takes settings {', '.join(IMAGE_SETTINGS)} and "
                         f"methods {', '.join(dict.fromkeys(METHODS + tuple(grid.methods)))}.")
    chosen_settings = [s for s in grid.settings if s in only] or list(grid.settings)
    chosen_methods = [m for m in grid.methods if m in only] or list(grid.methods)
    outside = [x for x in only if x not in grid.settings and x not in grid.methods]
    if outside:
        raise ValueError(f"--only: {outside} not in this grid (settings {', '.join(grid.settings)}, methods "
                         f"{', '.join(grid.methods)}); --grid=full has all settings.")
    return dataclasses.replace(grid, settings=tuple(chosen_settings), methods=tuple(chosen_methods))


def run_config(setting: str, seed: int, grid: Grid, data_dir: Optional[str]):
    config = settings.load(setting)
    config.dataset = "fashion_mnist"
    config.num_steps = grid.steps
    config.seed = seed
    config.checkpoint_every = grid.eval_every
    config.sample_every = grid.eval_every
    config.log_every = min(config.log_every, grid.eval_every)
    config.keep_checkpoints = grid.steps // grid.eval_every + 2      # keep every scored checkpoint
    for player in (config.optimizer.g, config.optimizer.d):
        player.learning_rate = player.learning_rate * grid.lr_scale
    config.data_dir = data_dir or ""
    return config


def _read(path: str, default):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Report:
    def __init__(self, report_dir: str, workdir: str, grid: Grid, data_dir: Optional[str] = None,
                 stats_dir: Optional[str] = None, classifier_dir: Optional[str] = None,
                 log: Callable[[str], None] = print):
        self.report_dir, self.root, self.grid, self.data_dir = report_dir, workdir, grid, data_dir
        self.stats_dir, self.classifier_dir, self.log = stats_dir, classifier_dir, log
        self.figdir = os.path.join(report_dir, grid.report)
        self.protocol = protocol(grid)

    def run_dir(self, setting: str, method: str, seed: int) -> str:
        return os.path.join(self.root, f"{setting}_{slug(method)}_seed{seed}")

    # --- one run ----------------------------------------------------------------------------------------------
    def collect(self, setting: str, method: str, seed: int, network_sha256: str) -> Dict[str, object]:
        """What a run left in its workdir (nothing is trained or scored): its records under this protocol and
        classifier, and its timing."""
        workdir = self.run_dir(setting, method, seed)
        records = sorted((r for r in _read(os.path.join(workdir, "eval.json"), [])
                          if r["protocol"] == self.protocol.name
                          and r["provenance"]["network_sha256"] == network_sha256), key=lambda r: r["step"])
        return {"setting": setting, "method": method, "seed": seed, "records": records, "workdir": workdir,
                "timing": _read(os.path.join(workdir, "reproduce_timing.json"),
                                {"train_seconds": 0.0, "eval_seconds": 0.0})}

    def check_training_code(self, workdir: str, started: bool) -> None:
        """A run is trained by one training code from start to end: its workdir records the code's sha256 and
        commit when it starts (training_code.json), and a continuation by other code is refused."""
        path = os.path.join(workdir, "training_code.json")
        current = {"training_code_sha256": provenance.training_code_sha256(), "source": provenance.source_version()}
        recorded = _read(path, None)
        if recorded is None:
            if started:
                raise ValueError(f"{workdir} has checkpoints but no training_code.json: the code that started it "
                                 f"is unknown, so it cannot be continued into a stored result; remove the folder "
                                 f"to train the run again.")
            os.makedirs(workdir, exist_ok=True)
            write_json(path, current)
        elif recorded["training_code_sha256"] != current["training_code_sha256"]:
            raise ValueError(f"{workdir} was started by other training code ({recorded['source']}, sha256 "
                             f"{recorded['training_code_sha256'][:12]}…) than this ({current['source']}, "
                             f"{current['training_code_sha256'][:12]}…); finish it with that code, or remove the "
                             f"folder to train the run again with this one.")

    def run(self, setting: str, method: str, seed: int, classifier) -> Dict[str, object]:
        """Train (or resume) one run to the grid's last step and score its checkpoints not yet scored."""
        from jare_tf.training.image_trainer import ImageRun
        import tensorflow as tf
        workdir = self.run_dir(setting, method, seed)
        timing_path = os.path.join(workdir, "reproduce_timing.json")
        timing = _read(timing_path, {"train_seconds": 0.0, "eval_seconds": 0.0})
        config = run_config(setting, seed, self.grid, self.data_dir)
        name, options = settings.parse_method_label(method)
        settings.set_method_options(config, name, options)
        latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
        if "failed" not in timing and (latest is None or checkpoint_step(latest) < self.grid.steps):
            self.check_training_code(workdir, started=latest is not None)
            self.log(f"[{setting} {method} seed {seed}] training to step {self.grid.steps} in {workdir} ...")
            start = time.perf_counter()
            try:
                ImageRun(config, name).train(workdir, log=self.log, verbose=0)
            except NonFiniteError as e:        # a result, not a crash: the method diverged on this setting
                timing["failed"] = str(e).split(". The last")[0]
                self.log(f"[{setting} {method} seed {seed}] {timing['failed']}")
            timing["train_seconds"] += time.perf_counter() - start
            write_json(timing_path, timing)
        evaluator = Evaluator(workdir, classifier, self.protocol, seed=0, data_dir=self.data_dir,
                              stats_dir=self.stats_dir)
        done = evaluator.evaluated_steps()
        todo = [(step, path) for step, path in evaluator.checkpoints() if step not in done]
        start = time.perf_counter()
        for step, path in todo:
            record = evaluator.evaluate(step, path)
            self.log(f"[{setting} {method} seed {seed}] step {step}: FID {record['fid']:.2f}, IS "
                     f"{record['is_mean']:.2f}, KID {record['kid_mean']:.4f}")
        if todo:
            timing["eval_seconds"] += time.perf_counter() - start
            write_json(timing_path, timing)
        return self.collect(setting, method, seed, classifier.sha256)

    # --- the floor: FID(test vs train) ------------------------------------------------------------------------
    def floor(self, classifier) -> Dict[str, float]:
        train = images.load_split("fashion_mnist", 32, self.data_dir)
        test = images.load_split("fashion_mnist", 32, self.data_dir, split="test")
        key = image_metrics.statistics_key("fashion_mnist", 32, classifier, len(train), 0)

        def batches(array):
            return (images.to_unit_range(array[i:i + 1000]) for i in range(0, len(array), 1000))

        real = image_metrics.real_statistics(key, lambda: image_metrics.activations(classifier, batches(train))[
            "pool"], self.stats_dir)
        acts = image_metrics.activations(classifier, batches(test))
        stats = image_metrics.statistics(acts["pool"])
        return {"fid": image_metrics.fid_from_statistics(real["mu"], real["sigma"], stats["mu"], stats["sigma"]),
                **image_metrics.inception_score(acts["logits"], 10),
                **image_metrics.kid(real["kid_pool"], acts["pool"][:image_metrics.KID_REAL_ACTIVATIONS]),
                "n_test": len(test), "n_train": len(train)}

    # --- the report -------------------------------------------------------------------------------------------
    def write(self, selected: Optional[Grid] = None) -> str:
        """Train and score the runs of `selected` (default: the whole grid), then write the report from every
        finished run of the grid."""
        selected = selected or self.grid
        sitting_start = time.perf_counter()
        os.makedirs(self.figdir, exist_ok=True)
        classifier = domain_classifier.load(self.data_dir, self.classifier_dir, log=self.log)
        floor = self.floor(classifier)
        results = [self.run(s, m, seed, classifier)
                   if s in selected.settings and m in selected.methods and seed in selected.seeds
                   else self.collect(s, m, seed, classifier.sha256)
                   for s in self.grid.settings for m in self.grid.methods for seed in self.grid.seeds]
        finished = [r for r in results if r["records"] and (r["records"][-1]["step"] == self.grid.steps
                                                            or "failed" in r["timing"])]
        lines = self.header(classifier, floor, results, time.perf_counter() - sitting_start)
        lines += self.tables(finished, floor)
        lines += self.figures(finished)
        lines += self.samples(finished)
        lines += self.reading(finished, floor)
        path = os.path.join(self.report_dir, f"{self.grid.report}.md")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
        return path

    def header(self, classifier, floor, results, sitting_seconds) -> List[str]:
        g = self.grid
        train = sum(r["timing"]["train_seconds"] for r in results)
        evals = sum(r["timing"]["eval_seconds"] for r in results)
        return [
            f"# {g.title}", "",
            f"Made by `jare-reproduce fashion_mnist{grid_flag(g)}` ({provenance.source_version()}) on "
            f"{provenance.machine()}.", "",
            "**Protocol.** Real images: Fashion-MNIST's 60,000 training images, 28×28 grayscale zero-padded (with "
            "the background value, −1) to 32×32×1, scaled to [−1, 1]. Each setting as configured in `configs/` "
            "(architecture with one input/output channel, optimizer, batch 64, z ∈ R¹²⁸, non-saturating loss, "
            "ConOpt γ = 10, JARE γ = 100) for "
            f"**{g.steps} iterations** (the paper trains 500,000)"
            + (f" with both learning rates **{g.lr_scale:g}× the setting's** (Adam 1e-4 → {1e-4 * g.lr_scale:g}, "
               f"RMSProp likewise), the same for every method, to get past the first blurred blobs in so few steps"
               if g.lr_scale != 1.0 else "") + f", seeds {', '.join(map(str, g.seeds))}; a "
            f"checkpoint every {g.eval_every} iterations and at 0, each scored on **{g.n_fake} samples**: FID and "
            "KID against the whole training split, IS in 10 splits, all through TF-GAN's eval functions with the "
            f"package's Fashion-MNIST classifier (`{classifier.name}`, test accuracy "
            f"{classifier.provenance['classifier_test_accuracy']:.4f} on the 10,000 test images, weights sha256 "
            f"`{classifier.sha256[:16]}…`; FID/KID on its 128-d penultimate features, IS on its logits). These "
            "are not CIFAR-10 Inception numbers and not comparable with them.", "",
            f"**Scale.** FID(test split vs training split) = **{floor['fid']:.3f}** (the floor: real images, "
            f"{floor['n_test']} vs {floor['n_train']}; IS of the test images {floor['is_mean']:.2f}, KID "
            f"{floor['kid_mean']:.5f}). The untrained generator's FID (the ceiling) is the step-0 column below.", "",
            f"**Wall time.** {train / 60:.1f} min training + {evals / 60:.1f} min scoring = "
            f"**{(train + evals) / 60:.1f} min** for the {len(results)} runs of this grid (each run's seconds are "
            f"recorded in its workdir, summed over the sittings that made it; this sitting took "
            f"{sitting_seconds / 60:.1f} min in all, one-off costs — classifier, real statistics, floor — included)."
            + (" Settings A, B and F cost per 1K iterations about 10×, 9× and 4× setting C "
               "(docs/results/speed.md: gan 719, 667 and 304 s against 72 s, JARE 1571, 1446 and 674 s against "
               "157 s), which is why the default grid is C, D and E; `--grid=full` (A–F, 3 seeds, 20,000 "
               "iterations at the settings' own learning rates, 10,000 samples) is for GPUs."
               if "A" not in g.settings else ""), ""]

    def tables(self, finished, floor) -> List[str]:
        lines = ["## Final scores", "",
                 "| setting | method | seed | FID at 0 | final FID | final IS | final KID | train s | eval s | "
                 "note |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in finished:
            first, last = r["records"][0], r["records"][-1]
            note = (f"{r['timing']['failed']}; scores of step {last['step']}, its last finite checkpoint"
                    if "failed" in r["timing"] else "")
            lines.append(f"| {r['setting']} | {r['method']} | {r['seed']} | {first['fid']:.1f} | {last['fid']:.2f} | "
                         f"{last['is_mean']:.2f} | {last['kid_mean']:.4f} | {r['timing']['train_seconds']:.0f} | "
                         f"{r['timing']['eval_seconds']:.0f} | {note} |")
        lines += ["", f"Floor (real test images): FID {floor['fid']:.3f}, IS {floor['is_mean']:.2f}.", ""]
        return lines

    def _final(self, finished, setting, method, key="fid"):
        values = [r["records"][-1][key] for r in finished if r["setting"] == setting and r["method"] == method]
        return (float(np.mean(values)), float(np.std(values))) if values else (None, None)

    def figures(self, finished) -> List[str]:
        lines = ["## FID against iteration", ""]
        chosen = [s for s in self.grid.settings if any(r["setting"] == s for r in finished)]
        if not chosen:
            return lines + ["No finished run yet.", ""]
        fig, axes = plt.subplots(1, len(chosen), figsize=(max(6.4, 4.6 * len(chosen)), 4.0), squeeze=False,
                                 constrained_layout=True)
        for ax, setting in zip(axes[0], chosen):
            for method in self.grid.methods:
                runs = [r for r in finished if r["setting"] == setting and r["method"] == method]
                if runs:
                    steps = [rec["step"] for rec in runs[0]["records"]]
                    fid = np.mean([[rec["fid"] for rec in r["records"]] for r in runs], axis=0)
                    ax.plot(steps, fid, marker="o", label=method)
            ax.set_title(f"setting {setting}", fontsize=10)
            ax.set_xlabel("iteration", fontsize=8)
            ax.set_ylabel("FID (Fashion-MNIST classifier)", fontsize=8)
            ax.legend(fontsize=7)
        lines += self._save(fig, "fid_curves.png", "FID against iteration, one panel per setting"), ""
        lines += ["## Fig. 3 form: final scores per setting", ""]
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
        width = 0.8 / len(self.grid.methods)
        for panel, (key, label) in enumerate((("fid", "final FID (lower is better)"),
                                              ("is_mean", "final IS (higher is better)"))):
            for i, method in enumerate(self.grid.methods):
                stats = [self._final(finished, s, method, key) for s in chosen]
                x = np.arange(len(chosen)) + (i - (len(self.grid.methods) - 1) / 2) * width
                axes[panel].bar(x, [m if m is not None else 0.0 for m, _ in stats], width,
                                yerr=[e or 0.0 for _, e in stats], label=method)
            axes[panel].set_xticks(np.arange(len(chosen)), chosen)
            axes[panel].set_title(label, fontsize=10)
            axes[panel].set_xlabel("setting", fontsize=8)
            axes[panel].set_ylabel(key.split("_")[0].upper() + " (mean ± std over seeds)", fontsize=8)
            axes[panel].legend(fontsize=7, ncol=len(self.grid.methods), loc="upper center",
                               bbox_to_anchor=(0.5, -0.14))
        lines += self._save(fig, "fig3_bars.png", "Final FID and IS per setting and method"), ""
        return lines

    def _save(self, fig, name, caption) -> str:
        plots.check_readable(fig)
        fig.savefig(os.path.join(self.figdir, name), dpi=plots.REPORT_DPI, bbox_inches="tight")
        plt.close(fig)
        return f"![{caption}]({self.grid.report}/{name})"

    def samples(self, finished) -> List[str]:
        lines = ["## Samples at the last iteration (8×8, fixed latents)", "",
                 "| setting | " + " | ".join(self.grid.methods) + " |",
                 "|---|" + "---|" * len(self.grid.methods)]
        os.makedirs(os.path.join(self.figdir, "samples"), exist_ok=True)
        for setting in self.grid.settings:
            cells = []
            for method in self.grid.methods:
                runs = [r for r in finished if r["setting"] == setting and r["method"] == method]
                cell = []
                for r in runs:
                    src = os.path.join(r["workdir"], "eval", f"samples_{self.grid.steps:07d}.png")
                    name = f"{setting}_{slug(method)}_seed{r['seed']}.png"
                    if os.path.exists(src):
                        shutil.copyfile(src, os.path.join(self.figdir, "samples", name))
                        cell.append(f"![{setting} {method} seed {r['seed']}]({self.grid.report}/samples/{name})")
                cells.append(" ".join(cell) or "–")
            lines.append(f"| {setting} | " + " | ".join(cells) + " |")
        return lines + [""]

    def reading(self, finished, floor) -> List[str]:
        lines = ["## What the numbers show and what they do not", ""]
        chosen = [s for s in self.grid.settings if any(r["setting"] == s for r in finished)]
        for setting in chosen:
            ranked = sorted((self._final(finished, setting, m)[0], m) for m in self.grid.methods
                            if self._final(finished, setting, m)[0] is not None)
            lines.append(f"- Setting {setting}: final FID, best first: "
                         + ", ".join(f"{m} {v:.2f}" for v, m in ranked) + ".")
        spread = {}
        for method in self.grid.methods:
            values = [self._final(finished, s, method)[0] for s in chosen]
            if values and all(v is not None for v in values):
                spread[method] = (min(values), max(values))
        if spread:
            lines.append("- Worst final FID over the settings (the paper's claim is about robustness: a method "
                         "should be good on every setting): "
                         + ", ".join(f"{m} {hi:.2f}" for m, (lo, hi) in sorted(spread.items(),
                                                                               key=lambda kv: kv[1][1])) + ".")
        first = [r["records"][0]["fid"] for r in finished]
        last = [r["records"][-1]["fid"] for r in finished]
        if first:
            lines.append(f"- The untrained generators score FID {min(first):.0f}–{max(first):.0f}, the finished runs "
                         f"{min(last):.2f}–{max(last):.2f}, real test images {floor['fid']:.3f}.")
        for r in finished:
            records, label = r["records"], f"{r['method']} on {r['setting']}"
            best = min(records, key=lambda rec: rec["fid"])
            start, end = records[0]["fid"], records[-1]["fid"]
            if "failed" in r["timing"]:
                lines.append(f"- {label}: {r['timing']['failed']}.")
            elif end > 0.9 * start:
                lines.append(f"- {label} ends no better than its untrained generator (FID {end:.1f} against "
                             f"{start:.1f} at step 0; IS {records[-1]['is_mean']:.2f}): it failed to learn "
                             f"in this protocol (see its samples).")
            elif end > 1.1 * best["fid"]:
                lines.append(f"- {label} was best at step {best['step']} (FID {best['fid']:.1f}) and ends worse "
                             f"({end:.1f}): training is not settling.")
        if self.grid.lr_scale != 1.0:
            lines.append(f"- The learning rates are {self.grid.lr_scale:g}× the settings' for every method: at the "
                         f"settings' own rates (Adam and RMSProp at 1e-4) the generators are still blurred blobs "
                         f"after {self.grid.steps} iterations (the README's Fashion-MNIST section gives a measured "
                         f"run), so this grid also tests each method's tolerance of a large step, which "
                         f"is the paper's claim in a compressed form, not a replication of its runs.")
        lines += [
            f"- What this does not show: {self.grid.steps} iterations are "
            f"{100 * self.grid.steps / 500000:.2g} % of the paper's runs, so these are early-training scores, where"
            " the paper's failures (mode collapse and divergence of GAN and ConOpt on some settings, Fig. 3) need "
            "not have appeared yet; with one seed a difference of a few FID points between methods is within "
            "seed-to-seed variation; and Fashion-MNIST with a 128-d domain classifier is not CIFAR-10 with "
            "Inception. The comparison per unit of compute also differs from per iteration: an iteration of JARE "
            "costs about 2.2× and ConOpt 2.9× a GAN iteration here (docs/results/speed.md).", ""]
        return lines


def main(only, report_dir: str, workdir: str, grid_name: str, data_dir: Optional[str] = None,
         log: Callable[[str], None] = print) -> str:
    if grid_name not in GRIDS:
        raise ValueError(f"--grid={grid_name!r}; choose one of {', '.join(GRIDS)}.")
    grid = GRIDS[grid_name]
    selected = select(grid, only)
    report = Report(report_dir, os.path.join(workdir, f"fashion_mnist_{grid_name}"), grid, data_dir, log=log)
    return report.write(selected)
