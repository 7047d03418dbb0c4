"""Precision, recall, density and coverage (evaluation/manifold_metrics.py) against a brute-force implementation
of the papers' definitions on the whole distance matrix (scipy's cdist, neighbours by sorting), on constructed
cases whose answers are known, and with bounded memory."""

import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from jare_tf.evaluation import manifold_metrics


def brute_force(real, fake, pr_k, dc_k):
    """Kynkäänniemi et al. 2019 (precision, recall) and Naeem et al. 2020 (density, coverage), as written."""
    rr, ff, fr = cdist(real, real), cdist(fake, fake), cdist(fake, real)
    real_radius = {k: np.sort(rr, axis=1)[:, k] for k in (pr_k, dc_k)}    # column 0 is the point itself
    fake_radius = np.sort(ff, axis=1)[:, pr_k]
    precision = np.mean([any(fr[j, i] <= real_radius[pr_k][i] for i in range(len(real))) for j in range(len(fake))])
    recall = np.mean([any(fr[j, i] <= fake_radius[j] for j in range(len(fake))) for i in range(len(real))])
    density = sum(fr[j, i] <= real_radius[dc_k][i] for j in range(len(fake)) for i in range(len(real))) / (
        dc_k * len(fake))
    coverage = np.mean([fr[:, i].min() <= real_radius[dc_k][i] for i in range(len(real))])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("seed, n, m, pr_k, dc_k, block", [(0, 120, 90, 3, 5, 7), (1, 64, 150, 2, 4, 256),
                                                           (2, 200, 200, 5, 3, 33)])
def test_equals_brute_force(seed, n, m, pr_k, dc_k, block):
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, 6))
    fake = 0.8 * rng.standard_normal((m, 6)) + 0.3
    got = manifold_metrics.manifold_metrics(real, fake, pr_k, dc_k, block=block)
    want = brute_force(real, fake, pr_k, dc_k)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_samples_from_the_reference_set_score_near_one():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((2000, 8))
    same = manifold_metrics.manifold_metrics(real, real[rng.permutation(2000)])
    assert same["precision"] == 1.0 and same["recall"] == 1.0 and same["coverage"] == 1.0
    # Each real ball holds its centre and its k nearest neighbours (no ties in continuous data): k + 1 fakes.
    k = manifold_metrics.DC_K
    assert same["density"] == pytest.approx((k + 1) / k, abs=1e-12)
    fresh = manifold_metrics.manifold_metrics(real, rng.standard_normal((2000, 8)))   # same distribution
    assert fresh["precision"] > 0.7 and fresh["recall"] > 0.7 and fresh["coverage"] > 0.9
    assert 0.8 < fresh["density"] < 1.2


def test_samples_from_one_class_have_low_recall_and_coverage():
    rng = np.random.default_rng(4)
    centres = 20.0 * rng.standard_normal((10, 8))                   # ten well-separated classes
    labels = rng.integers(0, 10, 3000)
    real = centres[labels] + rng.standard_normal((3000, 8))
    collapsed = centres[0] + rng.standard_normal((3000, 8))         # every fake from class 0
    out = manifold_metrics.manifold_metrics(real, collapsed)
    share = np.mean(labels == 0)
    assert out["precision"] > 0.7                                    # what it makes is realistic
    assert out["recall"] == pytest.approx(share, abs=0.03)           # ≈ 1/10 of the reals are reached
    assert out["coverage"] <= share + 0.01
    histogram = manifold_metrics.class_histogram(np.eye(10)[np.zeros(3000, int)] * 5.0)
    assert histogram["class_histogram"] == [3000] + [0] * 9 and histogram["top_class_share"] == 1.0


def test_memory_is_bounded_by_the_block_not_the_matrix():
    """n = m = 6,000 in blocks of 64: the full distance matrix would take 288 MB; the peak stays a few blocks
    (64 × 6,000 × 8 bytes = 3 MB each) — the same bound that keeps 50,000 × 50,000 at blocks of 256 × 50,000."""
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((6000, 16)), rng.standard_normal((6000, 16))
    tracemalloc.start()
    manifold_metrics.manifold_metrics(real, fake, block=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    block_bytes = 64 * 6000 * 8
    assert peak < 12 * block_bytes, peak
    assert peak < 0.15 * 6000 * 6000 * 8


def test_too_few_samples_for_k_is_refused():
    with pytest.raises(ValueError, match="k = 5 nearest neighbours need more than 5 samples"):
        manifold_metrics.manifold_metrics(np.zeros((5, 2)), np.zeros((10, 2)))
