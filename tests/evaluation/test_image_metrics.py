"""IS / FID / KID through TF-GAN's eval code against independent formulas, and the real-statistics cache."""

import numpy as np
import pytest
import scipy.linalg

from jare_tf.evaluation import image_metrics


def closed_form_fid(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.real(covmean)))


@pytest.mark.parametrize("seed", [0, 1])
def test_fid_of_two_gaussian_activation_sets_matches_the_closed_form(seed):
    rng = np.random.default_rng(seed)
    d = 16
    a1, a2 = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    x1 = rng.standard_normal((4000, d)) @ a1 + rng.standard_normal(d)
    x2 = rng.standard_normal((3000, d)) @ a2 * 0.7 + rng.standard_normal(d)
    s1, s2 = image_metrics.statistics(x1), image_metrics.statistics(x2)
    np.testing.assert_allclose(s1["sigma"], np.cov(x1, rowvar=False), rtol=1e-12)
    fid = image_metrics.fid_from_statistics(s1["mu"], s1["sigma"], s2["mu"], s2["sigma"])
    expected = closed_form_fid(s1["mu"], s1["sigma"], s2["mu"], s2["sigma"])
    assert abs(fid - expected) <= 1e-3 * abs(expected)
    assert abs(image_metrics.fid_from_statistics(s1["mu"], s1["sigma"], s1["mu"], s1["sigma"])) < 1e-6 * expected


def test_inception_score_of_known_class_distributions():
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.full(5, 0.3), size=1000)
    logits = np.log(probs)
    splits = np.array_split(probs, 4)
    direct = [np.exp(np.mean(np.sum(p * (np.log(p) - np.log(p.mean(axis=0))), axis=1))) for p in splits]
    result = image_metrics.inception_score(logits, splits=4)
    np.testing.assert_allclose(result["is_mean"], np.mean(direct), rtol=1e-4)
    np.testing.assert_allclose(result["is_std"], np.std(direct), rtol=1e-3, atol=1e-5)
    one_class = np.tile(np.array([10.0, 0, 0, 0, 0]), (100, 1))
    assert abs(image_metrics.inception_score(one_class, 2)["is_mean"] - 1.0) < 1e-3
    uniform_confident = np.eye(5)[np.arange(1000) % 5] * 30.0
    assert abs(image_metrics.inception_score(uniform_confident, 2)["is_mean"] - 5.0) < 1e-2


def test_kid_is_near_zero_for_the_same_distribution_and_positive_otherwise():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((500, 8)), rng.standard_normal((500, 8))
    assert abs(image_metrics.kid(a, b)["kid_mean"]) < 0.05
    assert image_metrics.kid(a, b + 2.0)["kid_mean"] > 0.5


def test_real_statistics_are_cached_and_recomputed_when_the_key_changes(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return np.random.default_rng(len(calls)).standard_normal((50, 4))

    key = {"dataset": "cifar10", "split": "train", "resolution": 32, "network_sha256": "ab", "resize": "tf1_legacy",
           "n_real": 50, "seed": 0}
    first = image_metrics.real_statistics(key, compute, str(tmp_path))
    again = image_metrics.real_statistics(key, compute, str(tmp_path))
    assert len(calls) == 1
    np.testing.assert_array_equal(first["mu"], again["mu"])
    for change in ({"network_sha256": "cd"}, {"resize": "tf2_bilinear"}, {"resolution": 64}, {"n_real": 40},
                   {"split": "test"}, {"dataset": "celeb_a"}):
        image_metrics.real_statistics(dict(key, **change), compute, str(tmp_path))
    assert len(calls) == 7
    image_metrics.real_statistics(key, compute, str(tmp_path))
    assert len(calls) == 7
