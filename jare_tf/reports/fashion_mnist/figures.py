"""The Fashion-MNIST report's figures, drawn from the stored runs: FID against iteration and seconds, the
Fig. 3-style final scores with every seed, and the class histograms (a mixin of `render.Renderer`)."""

import os
from typing import List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jare_tf.evaluation import plots  # noqa: E402


class Figures:
    """Figure sections; the renderer provides `page`, `figdir`, `of` and `settings_present`."""

    def _save(self, fig, name: str, caption: str) -> str:
        plots.check_readable(fig)
        os.makedirs(self.figdir, exist_ok=True)
        fig.savefig(os.path.join(self.figdir, name), dpi=plots.REPORT_DPI, bbox_inches="tight",
                    metadata={"Software": None})
        plt.close(fig)
        return f"![{caption}]({self.page.report}/{name})"

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
