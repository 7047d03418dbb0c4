"""jare-eval end to end on a --fake_data checkpoint with the stand-in classifier, including --follow."""

import json
import os
import subprocess
import sys
import time

import pytest


def module(name, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return [sys.executable, "-m", name, *args], env


def run(name, *args):
    cmd, env = module(name, *args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("runs") / "C_gan"
    proc = run("jare_tf.train", "--setting=C", "--method=gan", "--fake_data", "--batch_size=4", "--num_steps=4",
               "--checkpoint_every=2", "--config.steps_per_execution=2", f"--workdir={workdir}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return workdir


EVAL = ["--classifier=stand_in", "--num_fake=192", "--num_real=128"]


def test_eval_all_checkpoints_with_provenance(trained, tmp_path):
    proc = run("jare_tf.evaluate", f"--workdir={trained}", "--checkpoints=all", f"--stats_dir={tmp_path}", *EVAL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = json.load(open(trained / "eval.json"))
    assert [r["step"] for r in records] == [0, 2, 4]          # 0: the initial parameters
    for r in records:
        assert r["protocol"] == "default" and r["fid"] >= 0 and r["is_mean"] >= 1.0 - 1e-6
        p = r["provenance"]
        assert len(p["network_sha256"]) == 64 and p["resize"] == "tf2_bilinear"
        assert (p["n_real"], p["n_fake_is"], p["n_fake_fid"], p["seed"]) == (128, 192, 192, 0)
        assert (p["manifold_n_real"], p["manifold_n_fake"]) == (128, 128)       # as many fakes as stored reals
        assert all(0.0 <= r[key] <= 1.0 for key in ("precision", "recall", "coverage")) and r["density"] >= 0.0
        assert os.path.getsize(trained / "eval" / f"samples_{r['step']:07d}.png") > 100
    assert any(f.startswith("events") for f in os.listdir(trained / "eval"))
    assert len(os.listdir(tmp_path)) == 1                     # one cached real-statistics file
    again = run("jare_tf.evaluate", f"--workdir={trained}", "--checkpoints=all", f"--stats_dir={tmp_path}", *EVAL)
    assert again.returncode == 0 and len(json.load(open(trained / "eval.json"))) == 3   # nothing re-evaluated
    paper = run("jare_tf.evaluate", f"--workdir={trained}", "--protocol=jare_paper", f"--stats_dir={tmp_path}",
                *EVAL)
    assert paper.returncode == 0, paper.stderr[-2000:]
    last = json.load(open(trained / "eval.json"))[-1]
    assert last["protocol"] == "jare_paper" and last["provenance"]["resize"] == "tf1_legacy"
    assert last["provenance"]["is_uint8"] is True


def test_a_record_in_eval_json_implies_its_sample_sheet(trained, tmp_path, monkeypatch):
    """eval.json's record is the last write of a checkpoint's evaluation: a kill before it leaves the checkpoint
    to be redone whole, so no step is ever recorded without its PNG sheet (a kill right after eval.json
    appeared used to leave the sheet missing for good)."""
    import shutil

    from jare_tf.evaluation import classifier, evaluator
    workdir = tmp_path / "run"
    shutil.copytree(trained / "checkpoints", workdir / "checkpoints")
    shutil.copy(trained / "config.json", workdir / "config.json")
    seen = []
    write_json = evaluator.write_json

    def record_then_die(path, records):
        seen.append([os.path.exists(workdir / "eval" / f"samples_{r['step']:07d}.png") for r in records])
        write_json(path, records)
        raise KeyboardInterrupt       # the process ends the moment eval.json is written

    monkeypatch.setattr(evaluator, "write_json", record_then_die)
    protocol = evaluator.Protocol("default", 64, 64, None, 2, "tf2_bilinear", False)
    ev = evaluator.Evaluator(str(workdir), classifier.stand_in("tf2_bilinear"), protocol,
                             stats_dir=str(tmp_path / "stats"))
    step, path = ev.checkpoints()[-1]
    with pytest.raises(KeyboardInterrupt):
        ev.evaluate(step, path)
    assert seen == [[True]]
    assert not any(name.endswith(".tmp") for name in os.listdir(workdir / "eval"))


def test_follow_picks_up_a_checkpoint_written_after_it_started(tmp_path):
    workdir = tmp_path / "run"
    train_args = ["--setting=C", "--method=gan", "--fake_data", "--batch_size=4", "--checkpoint_every=2",
                  "--config.steps_per_execution=2", f"--workdir={workdir}"]
    assert run("jare_tf.train", *train_args, "--num_steps=2").returncode == 0
    # The follower expects the run to end at step 4 (its config.json says so after the second command).
    config = json.load(open(workdir / "config.json"))
    config["num_steps"] = 4
    json.dump(config, open(workdir / "config.json", "w"))
    cmd, env = module("jare_tf.evaluate", f"--workdir={workdir}", "--follow", "--poll_seconds=0.5",
                      "--follow_timeout=300", f"--stats_dir={tmp_path / 'stats'}", *EVAL)
    follower = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not (workdir / "eval.json").exists():            # the follower has evaluated the existing checkpoint
        assert follower.poll() is None and time.monotonic() < deadline, follower.stderr.read()[-2000:]
        time.sleep(0.2)
    assert run("jare_tf.train", *train_args, "--num_steps=4").returncode == 0
    out, err = follower.communicate(timeout=300)
    assert follower.returncode == 0, err[-2000:]
    assert [r["step"] for r in json.load(open(workdir / "eval.json"))] == [0, 2, 4]


def test_missing_inception_is_a_clear_error(trained):
    proc = run("jare_tf.evaluate", f"--workdir={trained}", "--inception_path=/nonexistent/inception")
    assert proc.returncode == 2 and "--inception_path" in proc.stderr and "Traceback" not in proc.stderr


def test_a_misspelt_workdir_is_named_before_any_network_is_loaded(tmp_path):
    proc = run("jare_tf.evaluate", f"--workdir={tmp_path / 'C_jaer'}", "--inception_path=/nonexistent/inception")
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Inception" not in proc.stderr
