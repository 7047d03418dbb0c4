"""jare-reproduce toy, every section, on shortened runs: the report and every figure it names are written."""

import json
import os
import re
import struct
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from jare_tf import settings
from jare_tf.evaluation import plots
from jare_tf.reports import toy
from jare_tf.reports.toy import common, dirac, isotropic, lazy, mog, numerics


def png_size(path):
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_readability_check_refuses_the_old_fig1_layout_and_passes_a_labelled_one():
    steps = np.arange(100)
    # The old Fig. 1 figure: 4×6 in at 90 dpi (≈ 343×486 px after cropping), no y labels, each panel's x label
    # and the next panel's title in the same place.
    fig, axes = plt.subplots(2, 1, figsize=(4, 6))
    for ax, key in zip(axes, ("d_norm", "g_norm")):
        ax.semilogy(steps, np.exp(-steps / 30.0))
        ax.set_title(f"{key}, μ = 4, σ² = 0.04", fontsize=9)
        ax.set_xlabel("iteration", fontsize=8)
    with pytest.raises(plots.UnreadableFigure, match="px"):
        plots.check_readable(fig)
    with pytest.raises(plots.UnreadableFigure, match="no y label"):
        plots.check_readable(fig, min_pixels=(0, 0))
    for ax in axes:
        ax.set_ylabel("distance")
        ax.set_title("a title long enough\nto need two lines", fontsize=14)
    with pytest.raises(plots.UnreadableFigure, match="overlap"):
        plots.check_readable(fig, min_pixels=(0, 0))
    plt.close(fig)
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 6.4), constrained_layout=True)
    for ax in axes:
        ax.semilogy(steps, np.exp(-steps / 30.0))
        ax.set(title="a title long enough\nto need two lines", xlabel="iteration", ylabel="‖θ − θ*‖")
    plots.check_readable(fig)
    plt.close(fig)


def test_every_section_writes_its_tables_and_figures(tmp_path, monkeypatch):
    real_load = settings.load

    def short(setting):
        c = real_load(setting)
        c.num_steps, c.spectrum_every = 20, 0
        if setting.startswith("mog"):
            c.model.widths, c.data.eval_samples = (8,), 100
        return c

    monkeypatch.setattr(settings, "load", short)
    monkeypatch.setattr(mog, "MOG_STEPS", 40)
    monkeypatch.setattr(mog, "MOG_VARIANT_STEPS", 20)        # fig7, fig8 and lazy's mixture-of-Gaussians runs
    monkeypatch.setattr(mog, "MOG_SNAPSHOT", 20)
    monkeypatch.setattr(mog, "MOG_FINE_SNAPSHOT", 10)
    monkeypatch.setattr(mog, "SIMGD_SEEDS", (0, 1))
    fig8 = mog.MOG_RUNS["fig8"]
    monkeypatch.setitem(mog.MOG_RUNS, "fig8", (fig8[0], fig8[1], ("gan", "jare"), fig8[3]))
    monkeypatch.setattr(lazy, "LAZY_EVERY", (4,))
    monkeypatch.setattr(lazy, "LAZY_MOG_EVERY", (4,))
    monkeypatch.setattr(isotropic, "ISO_METHODS", ("gan", "jare"))
    monkeypatch.setattr(dirac, "DIRAC_RUNS", [r for r in dirac.DIRAC_RUNS if r[1] in ("gan", "jare")])
    monkeypatch.setattr(numerics, "NUMERICS_K", 4)
    monkeypatch.setattr(numerics, "NUMERICS_FACTORS", numerics.NUMERICS_FACTORS[:1])
    path = toy.write(str(tmp_path / "report"), str(tmp_path / "runs"), list(toy.SECTIONS), log=lambda s: None)
    text = open(path).read()
    for heading in ("Fig. 1", "Fig. 5", "Fig. 6", "Fig. 2", "Fig. 7", "Fig. 8", "Dirac-GAN", "Nagarajan & Kolter",
                    "Lazy regularisation", "Eigenvalues at the end of training", "Sec. 6: Lemma 3"):
        assert heading in text
    eigenvalues = text[text.index("Eigenvalues at the end of training"):]
    assert "| conopt |" in eigenvalues and "numerics_eigenvalues.png" in eigenvalues
    assert "The error falls at every step" in text         # Theorem 5's limit, approached as γ grows
    figures = re.findall(r"\]\((toy/[^)]+)\)", text)
    assert len(figures) >= 10
    for fig in figures:      # each passed plots.check_readable before it was saved
        width, height = png_size(tmp_path / "report" / fig)
        assert width >= 0.8 * plots.MIN_PIXELS[0] and height >= 0.8 * plots.MIN_PIXELS[1], (fig, width, height)
    assert "| gan |" in text and "| JARE (γ 1) |" in text
    assert "Scale-aware view:" in text and "latent variance 2r = 20" in text and "SimGD over 2 seeds" in text
    assert text.count("_Made by `jare-reproduce toy --only=") == len(toy.SECTIONS)
    assert "seconds |" not in text                               # timings live beside the markdown
    assert text.count(common.TIMINGS_BEGIN) == 1 and "| Dirac-GAN | jare | 4 |" in text   # but lazy's are shown
    assert "closed form of the rate" in text and "The runs agree with the local analysis in" in text
    timings = json.load(open(tmp_path / "report" / "toy" / "sections" / "fig8.timings.json"))
    assert len(timings["seconds"]) == 4 and "jare_tf 0.1.0, commit" in timings["source"]
    # Rerunning one section replaces that part only.
    again = open(toy.write(str(tmp_path / "report"), str(tmp_path / "runs"), ["fig1"], log=lambda s: None)).read()
    tail = text.index("## Isotropic Gaussian, Fig. 5")       # everything after fig1 is kept as it was
    assert again[again.index("## Isotropic Gaussian, Fig. 5"):] == text[tail:]
    assert again.splitlines()[2] == text.splitlines()[2]       # the header still lists every section


def test_numerics_section_holds_the_factor_table_and_its_reading(tmp_path, monkeypatch):
    """The numerics section on shortened runs: the eigenvalue table, then one factor row per entry of
    NUMERICS_FACTORS (here γ = 1, both single-term methods and one seed) and the paragraph that reads them."""
    real_load = settings.load

    def short(setting):
        c = real_load(setting)
        c.num_steps, c.spectrum_every, c.log_every = 20, 0, 5
        c.model.widths, c.data.eval_samples = (8,), 100
        return c

    monkeypatch.setattr(settings, "load", short)
    monkeypatch.setattr(numerics, "NUMERICS_K", 4)
    keep = [f for f in numerics.NUMERICS_FACTORS if f[0] in ("γ = 1", "seed 1") or f[1] != "jare"]
    monkeypatch.setattr(numerics, "NUMERICS_FACTORS", tuple(keep))
    path = toy.write(str(tmp_path / "report"), str(tmp_path / "runs"), ["numerics"], log=lambda s: None)
    text = open(path).read()
    section = text[text.index("### Why JARE ends at 0/8 here"):]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| change")]
    assert len(rows) == 1 + len(keep)                      # the section's own JARE run, then each factor
    assert rows[0].startswith("| none (the JARE run above) | jare |")
    assert any(r.startswith("| generator term only") and r.endswith("|") and "| gen_only |" in r for r in rows)
    disc = next(r for r in rows if "| disc_only |" in r)
    assert disc.rstrip(" |").endswith("–")                  # disc_only applies no generator term: no ratio
    assert "**Why JARE ends at 0/8.**" in section and "over seeds 0, 1 JARE at γ = 10 ends at" in section
    assert "| conopt |" in text[:text.index("### Why JARE")]   # the section's existing table is still there


SHORT_REPORT = """
import sys
from jare_tf import settings
from jare_tf.reports import toy
from jare_tf.reports.toy import mog
real_load = settings.load
def short(setting):
    c = real_load(setting)
    c.num_steps, c.spectrum_every = 40, 0
    if setting.startswith("mog"):
        c.model.widths, c.data.eval_samples = (8,), 200
    return c
settings.load = short
mog.MOG_STEPS, mog.MOG_SNAPSHOT, mog.MOG_FINE_SNAPSHOT = 40, 20, 10
mog.SIMGD_SEEDS = (0, 1)
toy.write(sys.argv[1], sys.argv[2], ["fig1", "fig2"], log=lambda s: None)
"""


def test_two_runs_of_a_section_give_byte_identical_markdown(tmp_path):
    """Two processes, fresh workdirs, the same seed: every fragment and toy.md are equal byte for byte (the
    timings, which differ, are in the separate .timings.json files)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    texts = []
    for attempt in ("a", "b"):
        report, runs = tmp_path / attempt / "report", tmp_path / attempt / "runs"
        proc = subprocess.run([sys.executable, "-c", SHORT_REPORT, str(report), str(runs)], capture_output=True,
                              text=True, env=env, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        fragments = report / "toy" / "sections"
        whole = (report / "toy.md").read_text()
        while common.TIMINGS_BEGIN in whole:                  # a section's measured times, shown with it
            start = whole.index(common.TIMINGS_BEGIN)
            whole = whole[:start] + whole[whole.index(common.TIMINGS_END, start) + len(common.TIMINGS_END):]
        texts.append({name: (fragments / name).read_bytes() for name in sorted(os.listdir(fragments))
                      if name.endswith(".md") and not name.endswith(".timings.md")} | {"toy.md": whole.encode()})
    assert sorted(texts[0]) == ["fig1.md", "fig2.md", "toy.md"]
    for name in texts[0]:
        assert texts[0][name] == texts[1][name], name
    assert b"SimGD over 2 seeds" in texts[0]["fig2.md"] and b"_Made by `jare-reproduce toy --only=fig2` at" in \
        texts[0]["fig2.md"]
