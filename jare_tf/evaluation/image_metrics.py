"""Inception Score, FID and KID through TF-GAN's eval code, and the cached statistics of the real data.

* IS: `classifier_score_from_logits` of TF-GAN on each of `splits` equal parts of the samples; mean and std
  (ddof 0) over the splits, as Salimans et al. and the reference (reference_spec D.1).
* FID: ‖μ_r − μ_f‖² + Tr Σ_r + Tr Σ_f − 2·Tr √(Σ_r Σ_f), with the trace of the root from TF-GAN's
  `trace_sqrt_product`, in float64, from the real statistics (mean and covariance with 1/(n − 1)) and the
  fakes' activations.
* KID: TF-GAN's `kernel_classifier_distance_and_std_from_activations` against a stored subset of the real
  activations.

Real statistics are computed once per (dataset, split, resolution, network weights, resize mode, number of real
images; for your own data also its identity: a TFDS dataset's version and image feature, a folder's file-list
hash) and cached as .npz under `stats_dir` (default `$JARE_TF_CACHE` or ~/.cache/jare_tf/fid_stats); the file
records its key and is recomputed when any part of it changes.
"""

import hashlib
import json
import os
import re
from typing import Callable, Dict, Iterable, Optional

import numpy as np
import tensorflow as tf

from jare_tf.evaluation.classifier import Classifier
from jare_tf.evaluation.tfgan import classifier_metrics

KID_REAL_ACTIVATIONS = 10000


def default_stats_dir() -> str:
    return os.path.join(os.environ.get("JARE_TF_CACHE", os.path.expanduser("~/.cache/jare_tf")), "fid_stats")


def activations(classifier: Classifier, batches: Iterable[tf.Tensor]) -> Dict[str, np.ndarray]:
    """Stream image batches (in [−1, 1]) through the classifier, built once."""
    logits, pool = [], []
    for batch in batches:
        out = classifier.fn(batch)
        logits.append(np.asarray(out["logits"], np.float64))
        pool.append(np.asarray(out["pool"], np.float64))
    return {"logits": np.concatenate(logits), "pool": np.concatenate(pool)}


def inception_score(logits: np.ndarray, splits: int = 10) -> Dict[str, float]:
    parts = np.array_split(np.asarray(logits, np.float32), splits)
    scores = [float(classifier_metrics.classifier_score_from_logits(tf.constant(p))) for p in parts]
    return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores))}


def statistics(pool: np.ndarray) -> Dict[str, np.ndarray]:
    pool = np.asarray(pool, np.float64)
    return {"mu": pool.mean(axis=0), "sigma": np.cov(pool, rowvar=False, ddof=1)}


def fid_from_statistics(mu1, sigma1, mu2, sigma2) -> float:
    sigma1, sigma2 = tf.constant(sigma1, tf.float64), tf.constant(sigma2, tf.float64)
    trace_sqrt = float(classifier_metrics.trace_sqrt_product(sigma1, sigma2))
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    return float(diff @ diff + np.trace(sigma1.numpy()) + np.trace(sigma2.numpy()) - 2.0 * trace_sqrt)


def kid(real_pool: np.ndarray, fake_pool: np.ndarray) -> Dict[str, float]:
    """KID and its standard error; the error needs at least two blocks of 1,024 samples (None below that)."""
    value, std = classifier_metrics.kernel_classifier_distance_and_std_from_activations(
        tf.constant(real_pool, tf.float64), tf.constant(fake_pool, tf.float64))
    std = float(std)
    return {"kid_mean": float(value), "kid_std": std if np.isfinite(std) else None}


def statistics_key(dataset: str, resolution: int, classifier: Classifier, n_real: int, seed: int,
                   split: str = "train", identity: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """What identifies cached real statistics: the data (with `identity` for your own data, ImageDataset.identity),
    the network (weights and input resize) and the subset."""
    key = {"dataset": dataset, "split": split, "resolution": resolution, "network_sha256": classifier.sha256,
           "resize": classifier.resize or "none", "n_real": n_real, "seed": seed}
    return dict(key, source=identity) if identity is not None else key


def real_statistics(key: Dict[str, object], compute: Callable[[], np.ndarray],
                    stats_dir: Optional[str] = None) -> Dict[str, np.ndarray]:
    """The cached statistics for `key`, or `compute()` (real pool activations) → statistics, cached."""
    stats_dir = stats_dir or default_stats_dir()
    text = json.dumps(key, sort_keys=True)
    name = f"{key['dataset']}_{key['split']}_{key['resolution']}_{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    name = re.sub(r"[^\w.-]+", "_", name)             # folder:/a/b and train[:10%] as one file name
    path = os.path.join(stats_dir, name + ".npz")
    if os.path.exists(path):
        with np.load(path) as cached:
            if str(cached["key"]) == text:
                return {k: cached[k] for k in ("mu", "sigma", "kid_pool")}
    pool = compute()
    stats = dict(statistics(pool), kid_pool=pool[:KID_REAL_ACTIVATIONS])
    os.makedirs(stats_dir, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, key=np.array(text), **stats)
    os.replace(tmp, path)
    return stats
