"""Training code compared by trajectories (reports/fashion_mnist/equivalence.py, fingerprint.py): the rule that
compares two fingerprints, the equivalence records in the run store and the report, the refusals of
`--check_code`, and, end to end, that a copy of the package with another learning rate is told apart from this
checkout by the first two iterations of a real run."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from jare_tf import provenance
from jare_tf.reports.fashion_mnist import equivalence as code_equivalence
from jare_tf.reports.fashion_mnist import grids, runner
from jare_tf.reports.fashion_mnist import store as run_store
from tests.reports.test_fashion_mnist_store import GRID, fill, records, render

CASE = "C:gan"


def fingerprint(seed=0, shift=0.0, scale=1.0):
    """A fingerprint of one case: a kernel that moved by about 1e-3 from its start, an optimizer counter, and the
    text of a stored config."""
    rng = np.random.default_rng(seed)
    start = rng.normal(size=(4, 3)).astype(np.float32)
    final = start + 1e-3 * rng.normal(size=(4, 3)).astype(np.float32)
    return {f"{CASE}|0|generator/kernel": start,
            f"{CASE}|final|generator/kernel": start + scale * (final - start) + shift,
            f"{CASE}|0|g_optimizer/iterations": np.int64(0), f"{CASE}|final|g_optimizer/iterations": np.int64(4),
            f"{CASE}|final|run_config": np.array(json.dumps({"workdir": f"/tmp/run{seed}"}).encode())}


def test_compare_passes_identical_and_rounding_and_fails_a_changed_step():
    reference = fingerprint()
    same = code_equivalence.compare(reference, fingerprint(), [CASE])[CASE]
    assert same["passed"] and same["identical"] and same["worst"] == 0.0
    # The trainer's bookkeeping (the stored config, whose text names the temporary workdir; its metrics) is not
    # part of the trajectory: not compared, also when one version of the trainer stores it and another does not.
    booked = dict(reference, **{f"{CASE}|final|metrics/seconds": np.float32(3.0)})
    assert code_equivalence.compare(reference, booked, [CASE])[CASE]["identical"]
    elsewhere = dict(reference)
    elsewhere[f"{CASE}|final|run_config"] = np.array(b'{"workdir": "/tmp/elsewhere"}')
    assert code_equivalence.compare(reference, elsewhere, [CASE])[CASE]["passed"]
    # A float32 rounding of the final weights (a reordered sum) is far inside 1e-3 of the displacement.
    rounded = dict(reference)
    key = f"{CASE}|final|generator/kernel"
    rounded[key] = np.nextafter(reference[key], np.float32(np.inf))
    result = code_equivalence.compare(reference, rounded, [CASE])[CASE]
    assert result["passed"] and not result["identical"] and 0 < result["worst"] < 1
    # A step 1 % larger (another learning rate) moves every weight by 1 % of its displacement: 10× the allowance.
    result = code_equivalence.compare(reference, fingerprint(scale=1.01), [CASE])[CASE]
    assert not result["passed"] and result["variable"] == "final|generator/kernel" and 5 < result["worst"] < 20


def test_a_difference_within_the_codes_own_spread_passes_and_one_beyond_it_fails():
    reference = fingerprint()
    noisy = fingerprint(scale=1.02)          # 2 % of the displacement: 20× the allowance
    results = code_equivalence.compare(reference, noisy, [CASE])
    assert not results[CASE]["passed"]
    # The code, run again, differs from itself by 1.5 %: the 2 % difference is within 3× that spread.
    code_equivalence.within_spread(results, code_equivalence.compare(noisy, fingerprint(scale=1.035), [CASE]))
    assert results[CASE]["passed"] and 5 < results[CASE]["spread"] < 20
    # A code that repeats itself exactly has no spread to hide a difference in.
    results = code_equivalence.compare(reference, noisy, [CASE])
    code_equivalence.within_spread(results, code_equivalence.compare(noisy, noisy, [CASE]))
    assert not results[CASE]["passed"] and results[CASE]["spread"] == 0.0


def test_compare_fails_another_initialisation_a_missing_variable_and_an_integer():
    reference = fingerprint()
    moved_start = dict(reference)
    moved_start[f"{CASE}|0|generator/kernel"] = reference[f"{CASE}|0|generator/kernel"] * np.float32(1 + 1e-4)
    result = code_equivalence.compare(reference, moved_start, [CASE])[CASE]
    assert not result["passed"] and result["variable"] == "0|generator/kernel"          # no displacement to hide in
    missing = {k: v for k, v in reference.items() if not k.endswith("final|generator/kernel")}
    assert "in one only" in code_equivalence.compare(reference, missing, [CASE])[CASE]["problem"]
    counted = dict(reference)
    counted[f"{CASE}|final|g_optimizer/iterations"] = np.int64(5)
    assert code_equivalence.compare(reference, counted, [CASE])[CASE]["problem"] == "an integer variable differs"
    assert not code_equivalence.compare(reference, reference, ["D:jare"])["D:jare"]["passed"]    # not fingerprinted


def equivalence(store, new, old, cases):
    return store.write_equivalence(training_code_sha256=new, equivalent_to=old, source="jare_tf 0.1.0, commit 3333333",
                                   reference_source="jare_tf 0.1.0, commit 1111111", machine="m", steps=4, rtol=1e-3,
                                   atol_scale=1e-6, spread_factor=3.0,
                                   cases={c: {"identical": True, "worst": 0.0, "spread": 0.0} for c in cases},
                                   stored_at="2026-01-01T00:00:00Z")


def newer_run(store, code):
    path = store.write_run("C", "gan", 1, GRID.protocol(), training_code_sha256=code,
                           source="jare_tf 0.1.0, commit 2222222", machine="m", config={},
                           records=records([200.0, 110.0, 99.0]), final_metrics={},
                           timing={"train_seconds": 1.0, "eval_seconds": 1.0})
    document = json.loads(open(path).read())
    document["stored_at"] = "9999-01-01T00:00:00Z"
    open(path, "w").write(json.dumps(run_store.sealed(document)))


def test_an_equivalence_record_joins_two_codes_for_its_cases_only(tmp_path):
    store = run_store.RunStore(str(tmp_path / GRID.report / "runs"))
    fill(store)                                                        # code a…, every run
    newer_run(store, "b" * 64)
    every_case = [f"{s}:{m}" for s in GRID.settings for m in GRID.methods]
    equivalence(store, "b" * 64, "a" * 64, every_case)
    text, loaded = render(str(tmp_path))
    assert loaded.same_code(loaded.runs[("C", "gan", 1)], "a" * 64) and loaded.same_code(loaded.runs[("D", "jare", 2)],
                                                                                          "b" * 64)
    assert "Mixture" not in text and "†" not in text
    assert "Equivalent: `bbbbbbbbbbbb` trains the trajectories of `aaaaaaaaaaaa`" in text and "4 bit for bit" in text
    # The same pair shown equivalent for other cases only does not join C gan's records.
    for name in os.listdir(store.folder):
        if name.startswith("code_"):
            os.remove(os.path.join(store.folder, name))
    equivalence(store, "b" * 64, "a" * 64, ["D:gan"])
    text, loaded = render(str(tmp_path))
    assert not loaded.same_code(loaded.runs[("C", "gan", 1)], "a" * 64)
    assert "**Mixture**: rows made by 2 training codes" in text


def test_a_damaged_equivalence_record_is_named_and_skipped(tmp_path):
    store = run_store.RunStore(str(tmp_path / GRID.report / "runs"))
    fill(store)
    path = equivalence(store, "b" * 64, "a" * 64, ["C:gan"])
    document = json.loads(open(path).read())
    document["cases"]["D:jare"] = {"identical": True, "worst": 0.0, "spread": 0.0}  # widened by hand
    open(path, "w").write(json.dumps(document))
    _, loaded = render(str(tmp_path))
    assert loaded.equivalences == [] and "content_sha256" in loaded.skipped[os.path.basename(path)]


def test_runs_of_an_equivalent_code_are_skipped_not_retrained(tmp_path):
    grid = grids.Grid(("C",), ("gan",), (1,), 40, 20, 300, report="store_test")
    report = runner.Report(str(tmp_path / "docs"), str(tmp_path / "runs"), grid)
    report.store.write_run("C", "gan", 1, grid.protocol(), training_code_sha256="a" * 64,
                           source="jare_tf 0.1.0, commit 1111111", machine="m", config={},
                           records=records([200.0, 150.0, 120.0]), final_metrics={},
                           timing={"train_seconds": 1.0, "eval_seconds": 1.0})
    equivalence(report.store, provenance.training_code_sha256(), "a" * 64, ["C:gan"])
    lines = []
    report.log = lines.append
    report.write()                    # were the run not counted as this code's, this would train it
    assert any(line.startswith("Skipping 1 run(s) stored for this protocol and training code") for line in lines)
    assert not (tmp_path / "runs").exists()


def test_check_code_refuses_what_it_cannot_compare_and_has_nothing_to_do_for_this_code(tmp_path):
    store = run_store.RunStore(str(tmp_path / "runs"))
    protocol = GRID.protocol()
    store.write_run("C", "gan", 1, protocol, training_code_sha256=provenance.training_code_sha256(),
                    source="jare_tf 0.1.0, commit 4444444", machine="m", config={}, records=records([200.0, 150.0]),
                    final_metrics={}, timing={"train_seconds": 1.0, "eval_seconds": 1.0})
    lines = []
    assert code_equivalence.check(store, "default", protocol, [CASE], log=lines.append) == []
    assert "nothing to check" in lines[-1]
    store.write_run("C", "gan", 2, protocol, training_code_sha256="d" * 64,
                    source="jare_tf 0.1.0, commit 5555555 (with uncommitted changes)", machine="m", config={},
                    records=records([200.0, 150.0]), final_metrics={}, timing={"train_seconds": 1.0,
                                                                                "eval_seconds": 1.0})
    with pytest.raises(ValueError, match="cannot be checked out"):
        code_equivalence.check(store, "default", protocol, [CASE], log=lines.append)
    with pytest.raises(ValueError, match="--check_code compares the training code for the whole grid"):
        runner.main(["C"], str(tmp_path), str(tmp_path), "default", check=True)


def test_a_changed_learning_rate_is_told_apart_by_two_real_iterations(tmp_path, fashion_mnist_data_dir):
    """Two processes train C:gan for 2 iterations on Fashion-MNIST: this checkout, and a copy of it whose Adam
    settings have a 1 % larger learning rate. The copy is the code imported (its own training-code sha256), and its
    fingerprint fails the comparison with the learning-rate variable or a weight named."""
    root = code_equivalence.current_tree()
    copy = tmp_path / "tree"
    for folder in ("jare_tf", "configs"):
        shutil.copytree(os.path.join(root, folder), copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = copy / "configs" / "image.py"
    text = config.read_text()
    assert text.count('"learning_rate": 1e-4') == 1
    config.write_text(text.replace('"learning_rate": 1e-4', '"learning_rate": 1.01e-4'))
    fingerprints = {}
    for name, tree in (("here", root), ("copy", str(copy))):
        out = tmp_path / f"{name}.npz"
        done = subprocess.run([sys.executable, os.path.join(root, "jare_tf", "reports", "fashion_mnist", "fingerprint.py"),
                               tree, "default", "2", str(out), CASE, f"--data_dir={fashion_mnist_data_dir}"],
                              capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                              cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr[-2000:]
        fingerprints[name] = code_equivalence.load_fingerprint(str(out))
    (here, here_meta), (other, other_meta) = fingerprints["here"], fingerprints["copy"]
    assert here_meta["training_code_sha256"] == provenance.training_code_sha256()
    assert other_meta["training_code_sha256"] != here_meta["training_code_sha256"]
    assert any(k.startswith(f"{CASE}|final|") and "optimizer" in k for k in here)
    result = code_equivalence.compare(here, other, [CASE])[CASE]
    assert not result["passed"] and result["worst"] > 1
