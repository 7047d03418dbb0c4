"""examples/own_gan.py, the Python API for one's own Keras models: trained with GANModel.fit (checkpoints,
TensorBoard, resume) and with a hand-written loop around Method.directions, both reach the data mean."""

import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("own_gan", os.path.join(ROOT, "examples", "own_gan.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fit_trains_checkpoints_logs_and_resumes(example, tmp_path):
    mean = example.train_with_fit("jare", 1.0, 1000, str(tmp_path))
    np.testing.assert_allclose(mean, example.MEAN, atol=0.15)      # E[G(z)] moved from ≈ 0 to the data mean
    assert any(f.startswith("events") for f in os.listdir(tmp_path / "train"))
    assert "ckpt-1000.index" in os.listdir(tmp_path / "checkpoints")
    np.testing.assert_array_equal(example.train_with_fit("jare", 1.0, 1000, str(tmp_path)), mean)  # restored


def test_hand_written_loop_around_directions(example):
    np.testing.assert_allclose(example.train_by_hand("conopt", 1.0, 1000), example.MEAN, atol=0.15)
    with pytest.raises(ValueError, match="several stages"):
        example.train_by_hand("altgd", 0.0, 1)


def test_own_data_example_writes_a_folder_trains_on_it_and_scores(fashion_mnist_data_dir, tmp_path, monkeypatch):
    """examples/own_data.py (issue 27) on 64 PNGs in class sub-folders: 2 steps of setting C on folder:<path>,
    scored against the folder's own statistics with the stand-in network (resuming a folder run exactly is
    tests/data/test_own_data.py's)."""
    monkeypatch.setenv("JARE_TF_CACHE", str(tmp_path / "cache"))       # the folder's real statistics go here
    spec = importlib.util.spec_from_file_location("own_data", os.path.join(ROOT, "examples", "own_data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = module.write_folder(str(tmp_path / "pngs"), 64, fashion_mnist_data_dir)
    assert len(os.listdir(folder)) == 10 and sum(len(files) for _, _, files in os.walk(folder)) == 64
    assert module.train(folder, str(tmp_path / "run"), 2, "gan", 8, fashion_mnist_data_dir)["step"] == 2
    record = module.score(str(tmp_path / "run"), "stand_in", 128, fashion_mnist_data_dir)
    assert record["step"] == 2 and record["provenance"]["n_real"] == 64 and record["fid"] > 0
