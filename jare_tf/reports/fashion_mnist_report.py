"""`jare-reproduce fashion_mnist`: the JARE paper's Fig. 3 comparison — GAN, SN-GAN, ConOpt and JARE across the
image settings — on real images at a scale two CPU cores can run: Fashion-MNIST (padded to 32×32, one channel)
instead of CIFAR-10, scored with the package's Fashion-MNIST classifier (`evaluation.domain_classifier`) instead
of Inception.

Protocol (one `Grid`): each run trains `steps` iterations of the setting as configured (architecture, optimizer,
batch 64, γ of the method), checkpoints every `eval_every` steps and at step 0, and every checkpoint is scored:
FID and KID of `n_fake` samples against the whole training split (60,000 images, statistics cached), IS of the
same samples in 10 splits. For scale the report gives FID(test split vs training split), the floor a perfect
generator would reach with 10,000 samples, and the step-0 FID of every run (the untrained generator), the ceiling.

Results accumulate (`run_store`): each finished and scored run is stored as one JSON record under
`<report_dir>/<report>/runs/`, with its final sample sheet under `<report>/samples/`, and the report is rendered
from the stored records alone (`fashion_mnist_render`), so a fresh clone re-renders it byte for byte without
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
from typing import Callable, Dict, Optional, Sequence

from jare_tf import provenance, settings  # noqa: E402
from jare_tf.reports import run_store  # noqa: E402
from jare_tf.reports.fashion_mnist_render import Page, Renderer  # noqa: E402
from jare_tf.training.workdir import write_json  # noqa: E402

METHODS = ("gan", "sngan", "conopt", "jare")
CLASSIFIER_DIR = "fashion_mnist_classifier"
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
    #: A pilot's report shows, per seed, at which length the rule for "learns steadily" holds.
    pilot: bool = False

    def protocol(self) -> Dict[str, object]:
        """What makes two runs' scores comparable: the training length and step size, the scoring schedule and
        sample count (stored in every record and compared when records are read)."""
        return {"steps": self.steps, "eval_every": self.eval_every, "n_fake": self.n_fake, "lr_scale": self.lr_scale,
                "eval_protocol": eval_protocol_name(self)}


#: full: the settings' own learning rates, longer, all settings and 3 seeds: for GPUs.
GRIDS = {
    # Issue 24's pilot: plain GAN on setting C at the setting's own learning rate (Adam 1e-4), long enough to see
    # whether and when it learns; the grid's protocol is chosen from its curves.
    "pilot": Grid(("C",), ("gan", "gan:lr_scale=0.5", "gan:lr_scale=0.25"), (1, 2, 3), 3000, 250, 5000,
                  report="fashion_mnist_pilot", pilot=True,
                  title="Fashion-MNIST, setting C: the pilot that chooses the grid's protocol (plain GAN)"),
    # Issue 24's grid, in the pilot's protocol (docs/results/fashion_mnist_pilot.md): the settings' own learning
    # rates, 2000 iterations, scored every 250 on 5000 samples, 3 seeds. Hours of two CPU cores: the runs are
    # stored as they finish and the grid is completed over several sittings.
    "default": Grid(("C", "D", "E"), METHODS, (1, 2, 3), 2000, 250, 5000),
    "full": Grid(IMAGE_SETTINGS, METHODS, (1, 2, 3), 20000, 2000, 10000),
    # Issue 16's lazy regularisation on real images: JARE with its regulariser on one iteration in 4 (weight 4γ),
    # beside exact JARE, in the protocol of the earlier default grid (500 iterations at 5× the learning rates;
    # methods are labels: `name:option=value`).
    "lazy": Grid(("C",), ("jare", "jare:every=4"), (1,), 500, 100, 5000, lr_scale=5.0,
                 report="fashion_mnist_lazy",
                 title="Fashion-MNIST, setting C: lazy JARE (every = 4) beside exact JARE (issue 16)"),
}


#: What the pilot decided for the default grid, and why (the pilot's page prints it under its measurements; the
#: default grid's page links to it).
PILOT_DECISION = (
    "No learning rate and no length of this pilot makes plain GAN learn steadily on setting C on every seed. At "
    "the settings' Adam 1e-4 (all three seeds), at 0.5× and 0.25× of it (seed 1; one seed that fails the rule "
    "rules a step size out, so their other seeds were not run) and at 5× in the earlier 500-iteration grid, the "
    "runs collapse to one image within their first few hundred iterations (the classes column: one or two "
    "classes). Two of the three seeds at 1× stay there for 3000 iterations; the third escapes after about 1750 "
    "iterations and then hops between a few classes, ending at 0.67× its step-0 FID, short of the rule's 0.6. So a "
    "protocol in which GAN learns on C cannot be had by the step size and a length two cores afford. The grid "
    "therefore uses the paper's own learning rate, the preferred one, at 2000 iterations, scored every 250 on 5000 "
    "samples, 3 seeds: what two CPU cores accumulate over a few sittings (about 3.5 h per seed of C, D and E). It "
    "tells a method's failure from the protocol's by two checks that do not rest on GAN: the outcome rule names "
    "collapse from the class histogram instead of leaving it to FID, and the methods that do learn in the same "
    "protocol (outcome 'learned' in docs/results/fashion_mnist.md) show that the protocol can produce learning.")


def grid_flag(grid: Grid) -> str:
    """The --grid flag that makes `grid` ('' for the default)."""
    name = next((k for k, v in GRIDS.items() if v == grid), "default")
    return "" if name == "default" else f" --grid={name}"


def eval_protocol_name(grid: Grid) -> str:
    return f"fashion_mnist_{grid.n_fake}"


def protocol(grid: Grid):
    """The scoring protocol of jare-eval for this grid: n_fake samples against the whole training split, IS in
    10 splits, the classifier's own input size."""
    from jare_tf.evaluation.evaluator import Protocol
    return Protocol(eval_protocol_name(grid), grid.n_fake, None, None, 10, "none", False)


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


#: A run option in a method label, beside the method's own (`gan:lr_scale=0.5`): both learning rates × this, on
#: top of the grid's lr_scale (the pilot's and the step-size grids' rows).
LR_OPTION = "lr_scale"


def split_label(method: str):
    """A grid's method label → (method name, its method options, the run's extra learning-rate factor)."""
    name, options = settings.parse_method_label(method)
    scale = options.pop(LR_OPTION, 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"{method}: {LR_OPTION} must be a positive number.")
    return name, options, float(scale)


def run_config(setting: str, method: str, seed: int, grid: Grid, data_dir: Optional[str]):
    name, options, scale = split_label(method)
    config = settings.load(setting)
    config.dataset = "fashion_mnist"
    config.num_steps = grid.steps
    config.seed = seed
    config.checkpoint_every = grid.eval_every
    config.sample_every = grid.eval_every
    config.log_every = min(config.log_every, grid.eval_every)
    config.keep_checkpoints = grid.steps // grid.eval_every + 2      # keep every scored checkpoint
    for player in (config.optimizer.g, config.optimizer.d):
        player.learning_rate = player.learning_rate * grid.lr_scale * scale
    config.data_dir = data_dir or ""
    settings.set_method_options(config, name, options)
    return config


def _read(path: str, default):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def page(grid: Grid) -> Page:
    return Page(grid, grid_flag(grid), PILOT_DECISION if grid.pilot else "",
                "The protocol was chosen by the pilot, [fashion_mnist_pilot.md](fashion_mnist_pilot.md) (plain GAN on "
                "setting C at several learning rates): GAN collapses on C at every step size tried, so this grid "
                "uses the paper's learning rate and names collapse by the class histograms." if grid == GRIDS[
                    "default"] else "")


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
        self.store = run_store.RunStore(os.path.join(self.figdir, "runs"))

    def run_dir(self, setting: str, method: str, seed: int) -> str:
        return os.path.join(self.root, run_store.file_stem(setting, method, seed))

    # --- one run ----------------------------------------------------------------------------------------------
    def check_training_code(self, workdir: str, started: bool, case: str) -> Dict[str, str]:
        """A run is trained by one training code from start to end: its workdir records the code's sha256 and
        commit when it starts (training_code.json), and a continuation by other code is refused, unless the store
        holds that code's equivalence for the run's case ("setting:method"; `code_equivalence`)."""
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
            os.makedirs(os.path.join(self.figdir, "samples"), exist_ok=True)
            shutil.copyfile(sheet, os.path.join(self.figdir, "samples",
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
        text = Renderer(page(self.grid), loaded, self.report_dir).markdown()
        path = os.path.join(self.report_dir, f"{self.grid.report}.md")
        os.makedirs(self.report_dir, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        self.log(f"This sitting: {len(todo)} run(s) trained or scored, {(time.perf_counter() - sitting_start) / 60:.1f}"
                 f" min.")
        return path


def check_code(report: Report, grid_name: str, log: Callable[[str], None] = print) -> None:
    """`--check_code`: is this checkout's training code the stored runs'? (`code_equivalence`)."""
    from jare_tf.reports import code_equivalence
    cases = [f"{s}:{m}" for s in report.grid.settings for m in report.grid.methods]
    code_equivalence.check(report.store, grid_name, report.grid.protocol(), cases, report.data_dir, log=log)


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
