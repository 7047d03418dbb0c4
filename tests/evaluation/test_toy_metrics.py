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


def test_the_scale_aware_view_sees_samples_gathered_wider_than_three_std_on_a_large_ring():
    """r = 10: 30 points per mode at 0.5 (8σ) from each centre. The strict count is 0/8; the loose radius
    0.1·r = 1 counts all 8, and the relative distances are exactly 0.5 / 10."""
    centres = 5.0 * CENTRES                                       # radius 10
    pts = np.array([c * (1 + 0.5 / np.linalg.norm(c)) for c in centres for _ in range(30)])
    assert toy_metrics.mode_coverage(pts, centres, STD)["modes_covered"] == 0
    view = toy_metrics.relative_spread(pts, centres, 10.0)
    assert view["loose_modes"] == 8 and view["loose_per_mode"] == [30] * 8
    assert view["median_rel"] == pytest.approx(0.05, abs=1e-12) and view["p90_rel"] == pytest.approx(0.05, abs=1e-12)


def test_the_scale_aware_view_of_a_collapsed_or_scattered_generator():
    rng = np.random.default_rng(0)
    centres = 5.0 * CENTRES
    # Everything at the origin: the nearest mode is 10 away, relative distance 1 for every sample.
    view = toy_metrics.relative_spread(np.zeros((100, 2)), centres, 10.0)
    assert view["loose_modes"] == 0 and view["median_rel"] == pytest.approx(1.0)
    # Two modes only, tightly: 2 loose modes; the percentiles against numpy's on the same distances.
    pts = np.concatenate([centres[k] + 0.01 * rng.standard_normal((50, 2)) for k in (0, 3)])
    view = toy_metrics.relative_spread(pts, centres, 10.0)
    d = np.array([np.min(np.linalg.norm(centres - p, axis=1)) for p in pts]) / 10.0
    assert view["loose_modes"] == 2 and view["median_rel"] == pytest.approx(np.median(d), rel=1e-12)
    assert view["p90_rel"] == pytest.approx(np.quantile(d, 0.9), rel=1e-12)
    with pytest.raises(ValueError, match="radius > 0"):
        toy_metrics.relative_spread(pts, centres, 0.0)
