"""The Fashion-MNIST grids (jare-reproduce fashion_mnist --grid=…): which settings, methods, seeds, length,
scoring schedule and step size each has, what the pilot decided, and the jare-train config of one run.

Protocol (one `Grid`): each run trains `steps` iterations of the setting as configured (architecture, optimizer,
batch 64, γ of the method), checkpoints every `eval_every` steps and at step 0, and every checkpoint is scored:
FID and KID of `n_fake` samples against the whole training split (60,000 images, statistics cached), IS of the
same samples in 10 splits, precision/recall/density/coverage and the class histogram (runner.py).
"""

import dataclasses
from typing import Dict, Optional, Sequence

from jare_tf import settings
from jare_tf.reports.fashion_mnist.render import Page

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
    #: The folder (under --report_dir) whose runs/ and samples/ hold this grid's records, when it shares them with
    #: another grid of the same protocol ("" = its own, <report>/): a run in both is trained and stored once.
    store: str = ""

    @property
    def store_name(self) -> str:
        return self.store or self.report

    def protocol(self) -> Dict[str, object]:
        """What makes two runs' scores comparable: the training length and step size, the scoring schedule and
        sample count (stored in every record and compared when records are read)."""
        return {"steps": self.steps, "eval_every": self.eval_every, "n_fake": self.n_fake, "lr_scale": self.lr_scale,
                "eval_protocol": eval_protocol_name(self)}


#: The step-size grid's learning-rate factors (both players).
STEP_SIZES = (1, 2, 5, 10)

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
    # Issue 26's step-size robustness (the paper's Sec. 7, "robust to tuning hyperparameters"): setting C with
    # both learning rates at 1, 2, 5 and 10× the setting's, 2 seeds, in the default grid's protocol and store
    # (its 1× runs are the default grid's seeds 1 and 2).
    "step_size": Grid(("C",), tuple(m if s == 1 else f"{m}:lr_scale={s}" for m in METHODS for s in STEP_SIZES),
                      (1, 2), 2000, 250, 5000, report="fashion_mnist_step_size", store="fashion_mnist",
                      title="Fashion-MNIST, setting C: which methods tolerate which step size (JARE paper Sec. 7)"),
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


def page(grid: Grid) -> Page:
    return Page(grid, grid_flag(grid), PILOT_DECISION if grid.pilot else "",
                "The protocol was chosen by the pilot, [fashion_mnist_pilot.md](fashion_mnist_pilot.md) (plain GAN on "
                "setting C at several learning rates): GAN collapses on C at every step size tried, so this grid "
                "uses the paper's learning rate and names collapse by the class histograms." if grid == GRIDS[
                    "default"] else "")
