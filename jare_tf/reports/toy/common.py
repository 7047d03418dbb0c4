"""The toy report's plumbing, shared by every section: the run helper, figures, fragments, timings and toy.md.

A section is a function of one `Fragment`: it runs its experiments (`Fragment.run`, which keeps each run's
wall-clock time out of the markdown), appends its markdown lines to `Fragment.lines` and saves its figures with
`Fragment.figure`. `write` gives each section a fresh fragment, stores it as toy/sections/<section>.md beside its
timings, and assembles toy.md from every fragment present.
"""

import json
import os
from typing import Callable, Dict, List, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jare_tf import settings  # noqa: E402
from jare_tf.evaluation import plots  # noqa: E402
from jare_tf.training.toy_trainer import ToyRun  # noqa: E402

#: toy.md shows a section's measured times between these markers; everything outside them regenerates exactly.
TIMINGS_BEGIN, TIMINGS_END = "<!-- timings: differ from run to run -->", "<!-- /timings -->"


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


class Fragment:
    """One section's output while it runs: its markdown lines, its runs' seconds and the timing table it shows."""

    def __init__(self, figdir: str, workdir: str, log: Callable[[str], None]):
        self.figdir, self.workdir, self.log = figdir, workdir, log
        self.lines: List[str] = []
        self.timings: Dict[str, float] = {}      # run -> wall-clock seconds, written beside the markdown
        self.timing_lines: List[str] = []        # a markdown table of measured times, shown between the markers

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


Section = Callable[[Fragment], None]


def write(report_dir: str, workdir: str, sections: Mapping[str, Section], names: Sequence[str],
          log: Callable[[str], None] = print) -> str:
    """Run the sections `names` (keys of `sections`, whose order is toy.md's), store each as a fragment, and
    assemble toy.md from every fragment present.

    A fragment's first line names the package version and commit that made it, and it holds no timings, so
    two runs of a section at one commit (in fresh workdirs) give byte-identical markdown; the runs'
    wall-clock seconds and the machine go to toy/sections/<section>.timings.json."""
    from jare_tf import provenance
    unknown = [n for n in names if n not in sections]
    if unknown:
        raise ValueError(f"Unknown section {unknown[0]!r}; valid: {', '.join(sections)}.")
    figdir = os.path.join(report_dir, "toy")
    fragments = os.path.join(figdir, "sections")
    os.makedirs(fragments, exist_ok=True)
    source = provenance.source_version()
    for name in names:
        fragment = Fragment(figdir, workdir, log)
        sections[name](fragment)
        lines = fragment.lines
        lines.insert(1, f"_Made by `jare-reproduce toy --only={name}` at {source}._")
        lines.insert(1, "")
        atomic_write(os.path.join(fragments, f"{name}.md"), "\n".join(lines).rstrip() + "\n")
        machine = provenance.machine()
        atomic_write(os.path.join(fragments, f"{name}.timings.json"), json.dumps(
            {"machine": machine, "source": source, "seconds": fragment.timings}, indent=2) + "\n")
        timing_md = os.path.join(fragments, f"{name}.timings.md")
        if fragment.timing_lines:       # a section that reports its runs' times: shown with it, marked as such
            atomic_write(timing_md, "\n".join(
                [TIMINGS_BEGIN, "", f"Measured wall-clock time per iteration of the runs above, tracing included "
                 f"(it varies from run to run; {machine}):", ""]
                + fragment.timing_lines + ["", TIMINGS_END]) + "\n")
        elif os.path.exists(timing_md):
            os.remove(timing_md)
    present = [n for n in sections if os.path.exists(os.path.join(fragments, f"{n}.md"))]
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
    path = os.path.join(report_dir, "toy.md")
    atomic_write(path, "\n".join(header) + "\n" + "\n".join(body))
    return path


def atomic_write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
