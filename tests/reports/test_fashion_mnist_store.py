"""The Fashion-MNIST report's stored records (reports/fashion_mnist/store.py) and its rendering from them alone
(reports/fashion_mnist/render.py), on synthetic records: byte-for-byte re-rendering in a fresh folder, damaged and
foreign files named and skipped, a mixture of training codes marked, and the outcome rule on constructed runs."""

import json
import os
import shutil

import numpy as np
import pytest

from jare_tf.reports.fashion_mnist import grids, runner
from jare_tf.reports.fashion_mnist import store as run_store
from jare_tf.reports.fashion_mnist.render import Renderer
from jare_tf.reports.fashion_mnist.rules import effective_classes, learns_steadily, outcome

GRID = grids.Grid(("C", "D"), ("gan", "jare"), (1, 2, 3), 40, 20, 300, report="store_test",
                                 title="Store test")
CLASSIFIER = {"name": "fashion_mnist_cnn", "sha256": "c" * 64, "classifier_test_accuracy": 0.91,
              "classifier_n_test": 10000}


def records(fids, histogram=None):
    out = []
    for i, fid in enumerate(fids):
        r = {"step": i * GRID.eval_every, "protocol": "fashion_mnist_300", "fid": fid, "is_mean": 1.0 + 5.0 / fid,
             "is_std": 0.01, "kid_mean": fid / 100, "kid_std": 0.001, "precision": 0.5, "recall": 30.0 / fid,
             "density": 0.4, "coverage": 20.0 / fid,
             "class_histogram": histogram or [30] * 10, "top_class_share": 0.1,
             "provenance": {"classifier": CLASSIFIER["name"], "network_sha256": CLASSIFIER["sha256"],
                            "classifier_test_accuracy": 0.91}}
        out.append(r)
    return out


def fill(store, code="a" * 64, source="jare_tf 0.1.0, commit 1111111", skip=()):
    rng = np.random.default_rng(0)
    for s in GRID.settings:
        for m in GRID.methods:
            for seed in GRID.seeds:
                if (s, m, seed) in skip:
                    continue
                end = (60.0 if m == "jare" else 150.0) + rng.normal(0, 2)
                store.write_run(s, m, seed, GRID.protocol(), training_code_sha256=code, source=source,
                                machine="test machine", config={"setting": s}, records=records([200.0, 120.0, end]),
                                final_metrics={"step": 40}, timing={"train_seconds": 10.0, "eval_seconds": 2.0})
    store.write_floor(CLASSIFIER, {"fid": 0.07, "is_mean": 8.0, "kid_mean": 0.002, "n_test": 10000,
                                   "n_train": 60000})


def render(report_dir):
    store = run_store.RunStore(os.path.join(report_dir, GRID.report, "runs"))
    loaded = store.load(GRID.protocol())
    text = Renderer(grids.page(GRID), loaded, report_dir).markdown()
    return text, loaded


def figure_bytes(report_dir):
    folder = os.path.join(report_dir, GRID.report)
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))
            if name.endswith(".png")}


def test_a_fresh_copy_of_the_records_renders_the_same_report_byte_for_byte(tmp_path):
    first = tmp_path / "first"
    fill(run_store.RunStore(str(first / GRID.report / "runs")))
    text, loaded = render(str(first))
    assert len(loaded.runs) == 12 and not loaded.skipped
    clone = tmp_path / "clone"
    shutil.copytree(first / GRID.report / "runs", clone / GRID.report / "runs")
    again, _ = render(str(clone))
    assert again == text
    assert figure_bytes(str(clone)) == figure_bytes(str(first)) and len(figure_bytes(str(first))) == 3
    # The content the report states comes from the records: every row, the floor, the aggregate and the ranking.
    assert "| C | jare | 2 |" in text and "FID(test split vs training split) = **0.070**" in text
    assert "Incomplete" not in text and "Mixture" not in text
    ranking = next(line for line in text.splitlines() if line.startswith("- Setting C:"))
    assert ranking.startswith("- Setting C: jare 6") and "< gan 15" in ranking      # separated beyond the spread


def test_damaged_and_foreign_files_are_named_and_skipped(tmp_path):
    folder = tmp_path / GRID.report / "runs"
    store = run_store.RunStore(str(folder))
    fill(store)
    name = os.path.basename(store.path("C", "gan", 1, "a" * 64))
    text = (folder / name).read_text()
    (folder / name).write_text(text[: len(text) // 2])                              # truncated
    edited = json.loads((folder / os.path.basename(store.path("D", "jare", 3, "a" * 64))).read_text())
    edited["records"][-1]["fid"] = 1.0                                              # a better number, by hand
    (folder / os.path.basename(store.path("D", "jare", 3, "a" * 64))).write_text(json.dumps(edited))
    (folder / "notes.json").write_text(json.dumps({"hello": 1}))                   # foreign JSON
    (folder / "README.txt").write_text("x")
    other = grids.Grid(GRID.settings, GRID.methods, GRID.seeds, 80, 20, 300, report=GRID.report)
    store.write_run("C", "gan", 9, other.protocol(), training_code_sha256="a" * 64, source="s", machine="m",
                    config={}, records=records([200.0, 100.0]), final_metrics={}, timing={"train_seconds": 1.0,
                                                                                          "eval_seconds": 1.0})
    report, loaded = render(str(tmp_path))
    assert ("C", "gan", 1) not in loaded.runs and ("D", "jare", 3) not in loaded.runs and len(loaded.runs) == 10
    reasons = loaded.skipped
    assert "not readable JSON" in reasons[name]
    assert "content_sha256" in reasons[os.path.basename(store.path("D", "jare", 3, "a" * 64))]
    assert "foreign" in reasons["notes.json"] and "foreign" in reasons["README.txt"]
    assert "another protocol" in reasons[os.path.basename(store.path("C", "gan", 9, "a" * 64))]
    assert "**Skipped record files**" in report and name in report and "Incomplete" in report
    assert "C gan seed 1" in report


def test_a_mixture_of_training_codes_is_marked_and_the_newest_record_is_reported(tmp_path):
    folder = tmp_path / GRID.report / "runs"
    store = run_store.RunStore(str(folder))
    fill(store)
    newer = store.write_run("C", "gan", 1, GRID.protocol(), training_code_sha256="b" * 64,
                            source="jare_tf 0.1.0, commit 2222222", machine="m", config={},
                            records=records([200.0, 110.0, 99.0]), final_metrics={},
                            timing={"train_seconds": 1.0, "eval_seconds": 1.0})
    document = json.loads(open(newer).read())
    document["stored_at"] = "9999-01-01T00:00:00Z"                                  # certainly the newest
    open(newer, "w").write(json.dumps(run_store.sealed(document)))
    text, loaded = render(str(tmp_path))
    assert loaded.runs[("C", "gan", 1)]["training_code_sha256"] == "b" * 64
    assert len(loaded.all_records) == 13
    assert "**Mixture**: rows made by 2 training codes" in text
    row = next(line for line in text.splitlines() if line.startswith("| C | gan | 1 |"))
    assert "2222222 †" in row and "| 99.00 |" in row


def test_outcome_rule_on_constructed_runs():
    timing = {"train_seconds": 1.0, "eval_seconds": 1.0}
    assert outcome({"records": records([200.0, 100.0]), "timing": timing}) == "learned"
    assert outcome({"records": records([200.0, 130.0]), "timing": timing}) == "stalled"       # 0.65 × step 0
    one_class = [300] + [0] * 9
    assert outcome({"records": records([200.0, 100.0], one_class), "timing": timing}) == "collapsed"
    assert outcome({"records": records([200.0, 190.0], one_class), "timing": timing}) == "collapsed"  # any FID
    assert outcome({"records": records([200.0, 100.0]), "timing": dict(timing, failed="non-finite")}) == "diverged"
    assert effective_classes([30] * 10) == pytest.approx(10.0) and effective_classes(one_class) == 1.0
    # The pilot's rule: below 0.6 × step 0 and within 5 % of the run's best at the length looked at.
    rising = records([200.0, 90.0, 110.0])
    assert learns_steadily(rising, 20) and not learns_steadily(rising, 40)


def test_render_only_renders_what_is_stored_and_trains_nothing(tmp_path):
    report_dir = tmp_path / "docs"
    grid = grids.GRIDS["default"]
    fill_grid = run_store.RunStore(str(report_dir / grid.report / "runs"))
    fill_grid.write_run("C", "gan", 1, grid.protocol(), training_code_sha256="a" * 64, source="s", machine="m",
                        config={}, records=records([200.0, 150.0]), final_metrics={},
                        timing={"train_seconds": 1.0, "eval_seconds": 1.0})
    lines = []
    path = runner.main(None, str(report_dir), str(tmp_path / "runs"), "default", log=lines.append,
                                     render_only=True)
    text = open(path).read()
    assert "| C | gan | 1 |" in text and "Incomplete**: 1 of the grid's 36 runs" in text
    assert "fashion_mnist_pilot.md" in text                      # where the protocol comes from
    assert not (tmp_path / "runs").exists() and not (report_dir / grids.CLASSIFIER_DIR).exists()
    with pytest.raises(ValueError, match="--render_only trains nothing"):
        runner.main(["C"], str(report_dir), str(tmp_path / "runs"), "default", render_only=True)


def test_a_page_is_not_replaced_by_an_empty_render(tmp_path):
    """A grid whose page exists but which has no stored run (a page made before the store) keeps its page."""
    report_dir = tmp_path / "docs"
    report_dir.mkdir()
    page_path = report_dir / f"{grids.GRIDS['lazy'].report}.md"
    page_path.write_text("# measured before the run store\n")
    lines = []
    path = runner.main(None, str(report_dir), str(tmp_path / "runs"), "lazy", log=lines.append, render_only=True)
    assert open(path).read() == "# measured before the run store\n"
    assert any("is kept as it is" in line for line in lines)


def test_the_step_size_page_reads_the_shared_store_and_names_what_each_method_tolerates(tmp_path):
    """A grid with `store` set renders from another grid's runs/ (its 1× runs are that grid's) and adds the
    method × step-size table; a factor counts as tolerated only when every stored seed learned there."""
    shared = grids.Grid(("C",), ("gan", "gan:lr_scale=2", "gan:lr_scale=5"), (1, 2), 40, 20, 300,
                        report="steps", store=GRID.report, title="Steps")
    store = run_store.RunStore(str(tmp_path / GRID.report / "runs"))
    timing = {"train_seconds": 1.0, "eval_seconds": 1.0}
    for method, ends in (("gan", (90.0, 95.0)), ("gan:lr_scale=2", (80.0, 150.0)), ("gan:lr_scale=5", (70.0,))):
        for seed, end in enumerate(ends, 1):
            store.write_run("C", method, seed, shared.protocol(), training_code_sha256="a" * 64, source="s",
                            machine="m", config={}, records=records([200.0, 120.0, end]), final_metrics={},
                            timing=timing)
    loaded = run_store.RunStore(os.path.join(tmp_path, shared.store_name, "runs")).load(shared.protocol())
    text = Renderer(grids.page(shared), loaded, str(tmp_path)).markdown()
    assert f"[`{GRID.report}/runs/`]({GRID.report}/runs)" in text
    row = next(line for line in text.splitlines() if line.startswith("| gan | "))
    assert row.count("learned") == 4 and "stalled 150" in row and "mean FID 92.5" in row
    assert "Factors at which every stored seed learned: gan: 1×, 5×." in text      # 2×: one seed stalled
    assert not os.path.exists(tmp_path / "steps" / "fig3.png")                       # no per-label bar chart
