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
