"""jare-reproduce toy, every section, on shortened runs: the report and every figure it names are written."""

import os
import re

from jare_tf import settings
from jare_tf.reports import toy_report


def test_every_section_writes_its_tables_and_figures(tmp_path, monkeypatch):
    real_load = settings.load

    def short(setting):
        c = real_load(setting)
        c.num_steps, c.spectrum_every = 20, 0
        if setting.startswith("mog"):
            c.model.widths, c.data.eval_samples = (8,), 100
        return c

    monkeypatch.setattr(toy_report.settings, "load", short)
    monkeypatch.setattr(toy_report, "MOG_STEPS", 40)
    monkeypatch.setattr(toy_report, "MOG_VARIANT_STEPS", 20)
    monkeypatch.setattr(toy_report, "MOG_SNAPSHOT", 20)
    path = toy_report.Report(str(tmp_path / "report"), str(tmp_path / "runs"), log=lambda s: None).write(
        list(toy_report.SECTIONS))
    text = open(path).read()
    for heading in ("Fig. 1", "Fig. 5", "Fig. 6", "Fig. 2", "Fig. 7", "Fig. 8", "Dirac-GAN", "Nagarajan & Kolter"):
        assert heading in text
    figures = re.findall(r"\]\((toy/[^)]+)\)", text)
    assert len(figures) >= 10
    for fig in figures:
        assert os.path.getsize(tmp_path / "report" / fig) > 1000, fig
    assert "| gan |" in text and "| JARE (γ 1) |" in text
    # Rerunning one section replaces that part only.
    report = toy_report.Report(str(tmp_path / "report"), str(tmp_path / "runs"), log=lambda s: None)
    again = open(report.write(["fig1"])).read()
    tail = text.index("## Isotropic Gaussian, Fig. 5")       # everything after fig1 is kept as it was
    assert again[again.index("## Isotropic Gaussian, Fig. 5"):] == text[tail:]
    assert again.splitlines()[2] == text.splitlines()[2]       # the header still lists every section
