"""Fashion-MNIST end to end from the command line, as docs/training.md runs it: jare-train on setting C with JARE,
then jare-eval with the Fashion-MNIST classifier; and the jare-reproduce fashion_mnist report on a tiny grid,
resumed."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from jare_tf.reports.fashion_mnist import grids, runner


def run(name, *args, cache):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JARE_TF_CACHE=cache)
    return subprocess.run([sys.executable, "-m", name, *args], capture_output=True, text=True, env=env,
                          timeout=900)


def test_train_then_evaluate_on_fashion_mnist(tmp_path, fashion_mnist_data_dir, fashion_mnist_cache):
    workdir = tmp_path / "C_jare"
    # At the setting's Adam lr 1e-4 the FID falls slowly (198 → 185 in 300 steps, docs/training.md); at 10× it
    # falls by a quarter in 100 steps (172 → 131 with the CI classifier), which this checks with a margin.
    proc = run("jare_tf.train", "--setting=C", "--method=jare", "--config.dataset=fashion_mnist",
               f"--data_dir={fashion_mnist_data_dir}", "--num_steps=100", "--config.optimizer.g.learning_rate=1e-3",
               "--config.optimizer.d.learning_rate=1e-3", f"--workdir={workdir}", cache=fashion_mnist_cache["dir"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = run("jare_tf.evaluate", f"--workdir={workdir}", "--classifier=fashion_mnist", "--checkpoints=all",
               "--num_fake=2000", f"--stats_dir={tmp_path / 'stats'}", cache=fashion_mnist_cache["dir"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = json.load(open(workdir / "eval.json"))
    assert [r["step"] for r in records] == [0, 100]
    assert records[1]["fid"] < 0.9 * records[0]["fid"]            # below the untrained generator's
    p = records[1]["provenance"]
    assert p["network_sha256"] == fashion_mnist_cache["classifier"].sha256 and p["classifier_test_accuracy"] >= 0.85
    assert p["resize"] == "none" and p["reference_split"] == "fashion_mnist/train" and p["n_real"] == 60000
    # Mode coverage beside FID, on 2,000 fakes and as many stored real features, and the class histogram.
    assert (p["precision_recall_k"], p["density_coverage_k"], p["manifold_n_real"], p["manifold_n_fake"]) == (
        3, 5, 2000, 2000)
    for r in records:
        assert all(0.0 <= r[key] <= 1.0 for key in ("precision", "recall", "coverage")) and r["density"] >= 0.0
        assert len(r["class_histogram"]) == 10 and sum(r["class_histogram"]) == 2000
    assert records[1]["coverage"] > records[0]["coverage"]       # training reaches more of the real manifold


def test_unknown_dataset_is_refused_with_the_valid_names(tmp_path):
    proc = run("jare_tf.train", "--setting=C", "--config.dataset=mnist", f"--workdir={tmp_path / 'w'}",
               cache=str(tmp_path))
    assert proc.returncode == 2 and "--config.dataset='mnist'" in proc.stderr and "fashion_mnist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_on_a_tiny_grid_stores_its_runs_and_renders_from_them(tmp_path, fashion_mnist_data_dir,
                                                                    fashion_mnist_cache):
    # A method label with a method option (lazy JARE regularising every other step) and a run option (2× the
    # setting's learning rates).
    label = "jare:every=2:lr_scale=2"
    grid = grids.Grid(("C",), (label,), (1,), 20, 10, 300, report="tiny", title="Tiny")
    lines = []
    report = runner.Report(str(tmp_path / "report"), str(tmp_path / "runs"), grid,
                           fashion_mnist_data_dir, str(tmp_path / "stats"),
                           os.path.join(fashion_mnist_cache["dir"], "classifiers", "fashion_mnist"),
                           log=lines.append)
    path = report.write()
    text = open(path).read()
    assert path.endswith("tiny.md") and text.startswith("# Tiny")
    assert "FID(test split vs training split)" in text and f"| C | {label} | 1 |" in text
    figures = tmp_path / "report" / "tiny"
    for name in ("fid_curves.png", "fig3.png", "class_histograms.png",
                 os.path.join("samples", "C_jare_every2_lr_scale2_seed1.png")):
        assert os.path.getsize(figures / name) > 1000
    run_dir = tmp_path / "runs" / "C_jare_every2_lr_scale2_seed1"
    saved = json.load(open(run_dir / "config.json"))
    assert saved["method"]["name"] == "jare" and saved["method"]["options"]["jare"]["every"] == 2
    assert saved["optimizer"]["g"]["learning_rate"] == pytest.approx(2e-4)
    # The stored record: every scored checkpoint with mode coverage and class histogram, and the training code.
    stored = [n for n in os.listdir(figures / "runs") if n.startswith("C_jare")]
    assert len(stored) == 1
    record = json.load(open(figures / "runs" / stored[0]))
    assert [r["step"] for r in record["records"]] == [0, 10, 20] and record["protocol"] == grid.protocol()
    assert all(len(r["class_histogram"]) == 10 and 0 <= r["recall"] <= 1 for r in record["records"])
    assert record["training_code_sha256"] == json.load(open(run_dir / "training_code.json"))["training_code_sha256"]
    timing = json.load(open(run_dir / "reproduce_timing.json"))
    report.write()                                                 # again: skipped, nothing retrained or rescored
    assert json.load(open(run_dir / "reproduce_timing.json")) == timing
    assert any(line.startswith("Skipping 1 run(s) stored") for line in lines)
    assert open(path).read() == text
    # A fresh clone: the stored records alone, no workdir, no classifier: the same page byte for byte.
    clone = tmp_path / "clone"
    shutil.copytree(figures / "runs", clone / "tiny" / "runs")
    shutil.copytree(figures / "samples", clone / "tiny" / "samples")
    again = runner.Report(str(clone), str(tmp_path / "no_runs"), grid, classifier_dir=str(
        tmp_path / "no_classifier"), log=lambda line: None).write()
    assert open(again).read() == text and not os.path.exists(tmp_path / "no_classifier")
    for name in ("fid_curves.png", "fig3.png", "class_histograms.png"):
        assert (clone / "tiny" / name).read_bytes() == (figures / name).read_bytes()
    # A workdir started by other training code is not continued into a stored result.
    other = tmp_path / "runs" / "C_other"
    os.makedirs(other)
    json.dump({"training_code_sha256": "0" * 64, "source": "jare_tf 0.1.0, commit 0000000"},
              open(other / "training_code.json", "w"))
    with pytest.raises(ValueError, match="started by other training code"):
        report.check_training_code(str(other), started=True, case=f"C:{label}")


def test_the_report_header_imports_nothing_that_defines_flags_twice():
    """jare-reproduce defines --data_dir; the report's provenance must not import jare-bench, which does too."""
    code = ("import sys, jare_tf.reproduce, jare_tf.reports.fashion_mnist.runner\n"
            "from jare_tf import provenance\n"
            "assert 'CPU cores' in provenance.machine() and 'commit' in provenance.source_version()\n"
            "assert 'jare_tf.bench' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_only_names_settings_and_methods_of_the_grid():
    grid = grids.GRIDS["default"]
    chosen = grids.select(grid, ["E", "jare"])
    assert (chosen.settings, chosen.methods) == (("E",), ("jare",))
    with pytest.raises(ValueError, match="unknown"):
        grids.select(grid, ["Z"])
    with pytest.raises(ValueError, match="--grid=full"):
        grids.select(grid, ["A"])
