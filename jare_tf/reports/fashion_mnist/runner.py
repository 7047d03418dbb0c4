"""`jare-reproduce fashion_mnist`: the JARE paper's Fig. 3 comparison — GAN, SN-GAN, ConOpt and JARE across the
image settings — on real images at a scale two CPU cores can run: Fashion-MNIST (padded to 32×32, one channel)
instead of CIFAR-10, scored with the package's Fashion-MNIST classifier (`evaluation.domain_classifier`) instead
of Inception.

The grids and their protocol are in grids.py. For scale the report gives FID(test split vs training split), the floor a perfect
generator would reach with 10,000 samples, and the step-0 FID of every run (the untrained generator), the ceiling.

Results accumulate (store.py): each finished and scored run is stored as one JSON record under
`<report_dir>/<report>/runs/`, with its final sample sheet under `<report>/samples/`, and the report is rendered
from the stored records alone (render.py), so a fresh clone re-renders it byte for byte without
training. Running the command again skips the runs stored for the same protocol and training code (and says
which), continues unfinished ones in their jare-train workdirs under --workdir (a run is continued only by the
training code that started it), and stores each as it finishes. Each run's train and eval seconds are recorded
in its workdir (`reproduce_timing.json`) and in its record.
"""

import dataclasses
import json
import os
import shutil
import time
from typing import Callable, Dict, Optional

from jare_tf import provenance
from jare_tf.reports.fashion_mnist import store as run_store
from jare_tf.reports.fashion_mnist.grids import (CLASSIFIER_DIR, GRIDS, Grid, page, protocol, run_config, select,
                                                 split_label)
from jare_tf.reports.fashion_mnist.render import Renderer
from jare_tf.training.workdir import write_json


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
        # The network every stored score is made with lives beside the reports (docs/results/
        # fashion_mnist_classifier, committed), so scores made in different sittings and machines are comparable;
        # it is trained there once when missing.
        self.stats_dir, self.log = stats_dir, log
        self.classifier_dir = classifier_dir or os.path.join(report_dir, CLASSIFIER_DIR)
        self.figdir = os.path.join(report_dir, grid.report)
        self.store_dir = os.path.join(report_dir, grid.store_name)
        self.store = run_store.RunStore(os.path.join(self.store_dir, "runs"))

    def run_dir(self, setting: str, method: str, seed: int) -> str:
        return os.path.join(self.root, run_store.file_stem(setting, method, seed))

    # --- one run ----------------------------------------------------------------------------------------------
    def check_training_code(self, workdir: str, started: bool, case: str) -> Dict[str, str]:
        """A run is trained by one training code from start to end: its workdir records the code's sha256 and
        commit when it starts (training_code.json), and a continuation by other code is refused, unless the store
        holds that code's equivalence for the run's case ("setting:method"; equivalence.py)."""
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
            return current
        if recorded["training_code_sha256"] != current["training_code_sha256"] and recorded[
                "training_code_sha256"] not in self.store.load(self.grid.protocol()).codes_like(
                current["training_code_sha256"], case):
            raise ValueError(f"{workdir} was started by other training code ({recorded['source']}, sha256 "
                             f"{recorded['training_code_sha256'][:12]}…) than this ({current['source']}, "
                             f"{current['training_code_sha256'][:12]}…); finish it with that code, or remove the "
                             f"folder to train the run again with this one.")
        return recorded

    def run(self, setting: str, method: str, seed: int, classifier) -> Optional[str]:
        """Train (or resume) one run to the grid's last step, score its checkpoints not yet scored, and store its
        record; returns the record's path (None when the run could not finish)."""
        import tensorflow as tf
        from jare_tf.evaluation.evaluator import Evaluator, checkpoint_step
        from jare_tf.training.image_trainer import ImageRun
        from jare_tf.training.workdir import NonFiniteError
        workdir = self.run_dir(setting, method, seed)
        timing_path = os.path.join(workdir, "reproduce_timing.json")
        timing = _read(timing_path, {"train_seconds": 0.0, "eval_seconds": 0.0})
        config = run_config(setting, method, seed, self.grid, self.data_dir)
        name = split_label(method)[0]
        latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
        code = self.check_training_code(workdir, started=latest is not None, case=f"{setting}:{method}")
        if "failed" not in timing and (latest is None or checkpoint_step(latest) < self.grid.steps):
            self.log(f"[{setting} {method} seed {seed}] training to step {self.grid.steps} in {workdir} ...")
            start = time.perf_counter()
            try:
                ImageRun(config, name).train(workdir, log=self.log, verbose=0)
            except NonFiniteError as e:        # a result, not a crash: the method diverged on this setting
                timing["failed"] = str(e).split(". The last")[0]
                self.log(f"[{setting} {method} seed {seed}] {timing['failed']}")
            timing["train_seconds"] += time.perf_counter() - start
            write_json(timing_path, timing)
        evaluator = Evaluator(workdir, classifier, protocol(self.grid), seed=0, data_dir=self.data_dir,
                              stats_dir=self.stats_dir)
        done = evaluator.evaluated_steps()
        todo = [(step, path) for step, path in evaluator.checkpoints() if step not in done]
        start = time.perf_counter()
        for step, path in todo:
            record = evaluator.evaluate(step, path)
            self.log(f"[{setting} {method} seed {seed}] step {step}: FID {record['fid']:.2f}, IS "
                     f"{record['is_mean']:.2f}, KID {record['kid_mean']:.4f}, recall {record['recall']:.3f}")
        if todo:
            timing["eval_seconds"] += time.perf_counter() - start
            write_json(timing_path, timing)
        records = sorted((r for r in evaluator.records() if evaluator.current(r)), key=lambda r: r["step"])
        if not records or (records[-1]["step"] != self.grid.steps and "failed" not in timing):
            return None
        return self.store_run(setting, method, seed, workdir, code, records, timing)

    def store_run(self, setting, method, seed, workdir, code, records, timing) -> str:
        config = {k: v for k, v in _read(os.path.join(workdir, "config.json"), {}).items() if k != "data_dir"}
        path = self.store.write_run(
            setting, method, seed, self.grid.protocol(), training_code_sha256=code["training_code_sha256"],
            source=code["source"], machine=provenance.machine(), config=config,
            records=[{k: v for k, v in r.items() if k != "checkpoint"} for r in records],
            final_metrics=_read(os.path.join(workdir, "metrics.json"), {}), timing=timing)
        sheet = os.path.join(workdir, "eval", f"samples_{records[-1]['step']:07d}.png")
        if os.path.exists(sheet):
            os.makedirs(os.path.join(self.store_dir, "samples"), exist_ok=True)
            shutil.copyfile(sheet, os.path.join(self.store_dir, "samples",
                                                run_store.file_stem(setting, method, seed) + ".png"))
        self.log(f"[{setting} {method} seed {seed}] stored {path}")
        return path

    # --- the floor: FID(test vs train) ------------------------------------------------------------------------
    def floor(self, classifier) -> Dict[str, float]:
        from jare_tf.data import images
        from jare_tf.evaluation import image_metrics, manifold_metrics
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
                # As each run's are scored (evaluator): the first n of the real pool against n samples, n = the
                # grid's sample count here, so the floor's precision/recall/density/coverage calibrate the runs'.
                **manifold_metrics.manifold_metrics(real["kid_pool"][:self.grid.n_fake], acts["pool"][:self.grid.n_fake]),
                "manifold_n": min(self.grid.n_fake, len(test)), "n_test": len(test), "n_train": len(train)}

    # --- the report -------------------------------------------------------------------------------------------
    def write(self, selected: Optional[Grid] = None) -> str:
        """Train, score and store the runs of `selected` (default: the whole grid) that are not stored for this
        protocol and training code, then render the report from the store."""
        selected = selected or self.grid
        sitting_start = time.perf_counter()
        loaded = self.store.load(self.grid.protocol())
        for name, why in sorted(loaded.skipped.items()):
            self.log(f"Skipping {os.path.join(self.store.folder, name)}: {why}.")
        wanted = [(s, m, seed) for s in self.grid.settings for m in self.grid.methods for seed in self.grid.seeds
                  if s in selected.settings and m in selected.methods and seed in selected.seeds]
        todo = wanted
        if wanted:
            code = provenance.training_code_sha256()
            stored = {(r["setting"], r["method"], r["seed"]) for r in loaded.all_records if loaded.same_code(r, code)}
            skipped = [key for key in wanted if key in stored]
            if skipped:
                self.log(f"Skipping {len(skipped)} run(s) stored for this protocol and training code "
                         f"({code[:12]}…): " + ", ".join(f"{s} {m} seed {seed}" for s, m, seed in skipped) + ".")
            todo = [key for key in wanted if key not in stored]
        if todo:
            from jare_tf.evaluation import domain_classifier
            classifier = domain_classifier.load(self.data_dir, self.classifier_dir, log=self.log)
            if "recall" not in loaded.floors.get(classifier.sha256, {}).get("floor", {}):
                self.store.write_floor({"name": classifier.name, "sha256": classifier.sha256,
                                        **classifier.provenance}, self.floor(classifier))
            for setting, method, seed in todo:
                self.run(setting, method, seed, classifier)
            loaded = self.store.load(self.grid.protocol())
        path = os.path.join(self.report_dir, f"{self.grid.report}.md")
        if not loaded.runs and os.path.exists(path):
            # A page made before its grid's runs were stored (or whose records were removed) is finished work: an
            # empty render would erase it, so it is kept until a run of the grid is stored.
            self.log(f"No run of this grid is stored under {self.store.folder}; {path} is kept as it is.")
            return path
        text = Renderer(page(self.grid), loaded, self.report_dir).markdown()
        os.makedirs(self.report_dir, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        self.log(f"This sitting: {len(todo)} run(s) trained or scored, {(time.perf_counter() - sitting_start) / 60:.1f}"
                 f" min.")
        return path


def check_code(report: Report, grid_name: str, log: Callable[[str], None] = print) -> None:
    """`--check_code`: is this checkout's training code the stored runs'? (equivalence.py)."""
    from jare_tf.reports.fashion_mnist import equivalence
    cases = [f"{s}:{m}" for s in report.grid.settings for m in report.grid.methods]
    equivalence.check(report.store, grid_name, report.grid.protocol(), cases, report.data_dir, log=log)


def main(only, report_dir: str, workdir: str, grid_name: str, data_dir: Optional[str] = None,
         log: Callable[[str], None] = print, render_only: bool = False, check: bool = False) -> str:
    if grid_name not in GRIDS:
        raise ValueError(f"--grid={grid_name!r}; choose one of {', '.join(GRIDS)}.")
    grid = GRIDS[grid_name]
    if render_only and only:
        raise ValueError("--render_only trains nothing, so --only has nothing to narrow; give one or the other.")
    if check and (render_only or only):
        raise ValueError("--check_code compares the training code for the whole grid and trains no run; leave out "
                         "--render_only and --only.")
    selected = dataclasses.replace(grid, seeds=()) if render_only else select(grid, only)
    report = Report(report_dir, os.path.join(workdir, f"fashion_mnist_{grid_name}"), grid, data_dir, log=log)
    if check:
        check_code(report, grid_name, log)
        selected = dataclasses.replace(grid, seeds=())
    return report.write(selected)
