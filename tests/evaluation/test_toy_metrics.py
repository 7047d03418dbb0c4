"""Toy metrics on point sets whose answers are known by construction."""

import numpy as np
import pytest

from jare_tf.evaluation import toy_metrics

CENTRES = 2.0 * np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)
STD = 0.06


def at_modes(counts, offset=0.0):
    """counts[k] points at mode k, each shifted radially outwards by `offset`."""
    pts = [c * (1 + offset / np.linalg.norm(c)) for k, c in enumerate(CENTRES) for _ in range(counts[k])]
    return np.array(pts).reshape(-1, 2)


def test_all_modes_exact():
    m = toy_metrics.mode_coverage(at_modes([30] * 8), CENTRES, STD)
    assert m["modes_covered"] == 8 and m["high_quality_fraction"] == 1.0 and m["per_mode"] == [30] * 8


def test_twenty_high_quality_samples_cover_a_mode_nineteen_do_not():
    m = toy_metrics.mode_coverage(at_modes([20, 19, 0, 0, 0, 0, 0, 0]), CENTRES, STD)
    assert m["modes_covered"] == 1 and m["per_mode"][:2] == [20, 19]


def test_three_standard_deviations_is_the_quality_boundary():
    inside = at_modes([25] * 8, offset=2.9 * STD)
    outside = at_modes([25] * 8, offset=3.1 * STD)
    m = toy_metrics.mode_coverage(np.concatenate([inside, outside]), CENTRES, STD)
    assert m["high_quality_fraction"] == pytest.approx(0.5)
    assert m["modes_covered"] == 8
    assert toy_metrics.mode_coverage(outside, CENTRES, STD)["modes_covered"] == 0


def test_samples_between_modes_are_not_high_quality():
    between = np.array([[0.0, 0.0]] * 100 + [[5.0, 5.0]] * 100)
    m = toy_metrics.mode_coverage(between, CENTRES, STD)
    assert m["modes_covered"] == 0 and m["high_quality_fraction"] == 0.0


def test_trajectory_summary():
    # initial 2, then 10 steps: 1.0 × 8, then 0.5, 0.1 → tail = last 2 steps (20%).
    d = [2.0] + [1.0] * 8 + [0.5, 0.1]
    s = toy_metrics.trajectory_summary(d)
    assert s["distance"] == 0.1 and s["distance_ratio"] == pytest.approx(0.05)
    assert s["tail_mean_ratio"] == pytest.approx(0.3 / 2.0)
    with pytest.raises(ValueError):
        toy_metrics.trajectory_summary([0.0, 1.0])


def test_parameter_distances():
    m = toy_metrics.parameter_distances(np.array([3.0, 4.0 + 4.0]), np.array([[0.6], [0.8]]), np.array([0.0, 4.0]))
    assert m["g_norm"] == pytest.approx(5.0) and m["d_norm"] == pytest.approx(1.0)
