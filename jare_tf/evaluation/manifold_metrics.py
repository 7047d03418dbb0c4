"""Mode coverage beside FID: improved precision and recall (Kynkäänniemi et al., NeurIPS 2019) and density and
coverage (Naeem et al., ICML 2020), from k-nearest-neighbour balls in a classifier's feature space.

With real features R (n rows) and fake features F (m rows), and NND_k(x; S) the distance from x to its k-th
nearest neighbour in S other than itself:

* precision = (1/m) Σ_j 1[∃ i: ‖f_j − r_i‖ ≤ NND_k(r_i; R)]      (fakes inside the real manifold)
* recall    = (1/n) Σ_i 1[∃ j: ‖r_i − f_j‖ ≤ NND_k(f_j; F)]      (reals inside the fake manifold)
* density   = (1/(k·m)) Σ_j Σ_i 1[‖f_j − r_i‖ ≤ NND_k(r_i; R)]   (can exceed 1)
* coverage  = (1/n) Σ_i 1[∃ j: ‖f_j − r_i‖ ≤ NND_k(r_i; R)]      (real balls that hold a fake)

Kynkäänniemi et al. use k = 3, Naeem et al. k = 5 and recommend as many fakes as reals. Distances are computed
in float64 in blocks of BLOCK rows, so the memory is O(BLOCK · max(n, m)), never n × m: a few copies of a
256 × 50,000 block (100 MB each) for 50,000 × 50,000, where the whole matrix would take 20 GB
(tests/evaluation/test_manifold_metrics.py measures the peak).
"""

from typing import Dict, Sequence

import numpy as np

PR_K = 3       # Kynkäänniemi et al. 2019
DC_K = 5       # Naeem et al. 2020
BLOCK = 256


def _blocks(n: int, block: int):
    return ((start, min(start + block, n)) for start in range(0, n, block))


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _distances(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of a and of b (clipped at 0 against rounding)."""
    return np.sqrt(np.maximum(a_sq[:, None] + b_sq[None, :] - 2.0 * (a @ b.T), 0.0))


def knn_radii(x: np.ndarray, ks: Sequence[int], block: int = BLOCK) -> np.ndarray:
    """[len(ks), n]: NND_k(x_i; x) for each k of `ks` and every row, the k-th smallest distance to the other rows
    (the row itself is the 0th)."""
    x = np.asarray(x, np.float64)
    if len(x) <= max(ks):
        raise ValueError(f"k = {max(ks)} nearest neighbours need more than {max(ks)} samples; got {len(x)}.")
    sq = _squared_norms(x)
    radii = np.empty((len(ks), len(x)))
    for start, stop in _blocks(len(x), block):
        d = _distances(x[start:stop], sq[start:stop], x, sq)
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0      # the row itself, exactly
        radii[:, start:stop] = np.partition(d, list(ks), axis=1)[:, list(ks)].T
    return radii


def manifold_metrics(real: np.ndarray, fake: np.ndarray, pr_k: int = PR_K, dc_k: int = DC_K,
                     block: int = BLOCK) -> Dict[str, float]:
    """Precision and recall with k = pr_k, density and coverage with k = dc_k (the module docstring)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features must be [n, d] and [m, d]; got {real.shape} and {fake.shape}.")
    real_sq, fake_sq = _squared_norms(real), _squared_norms(fake)
    real_pr, real_dc = knn_radii(real, (pr_k, dc_k), block)
    fake_pr, = knn_radii(fake, (pr_k,), block)
    inside_real = np.zeros(len(fake), bool)        # precision
    balls_holding = np.zeros(len(fake))            # density
    covered = np.zeros(len(real), bool)            # coverage
    for start, stop in _blocks(len(fake), block):
        d = _distances(fake[start:stop], fake_sq[start:stop], real, real_sq)
        inside_real[start:stop] = (d <= real_pr[None, :]).any(axis=1)
        in_dc = d <= real_dc[None, :]
        balls_holding[start:stop] = in_dc.sum(axis=1)
        covered |= in_dc.any(axis=0)
    inside_fake = np.zeros(len(real), bool)        # recall
    for start, stop in _blocks(len(real), block):
        d = _distances(real[start:stop], real_sq[start:stop], fake, fake_sq)
        inside_fake[start:stop] = (d <= fake_pr[None, :]).any(axis=1)
    return {"precision": float(inside_real.mean()), "recall": float(inside_fake.mean()),
            "density": float(balls_holding.sum() / (dc_k * len(fake))), "coverage": float(covered.mean())}


def class_histogram(logits: np.ndarray) -> Dict[str, object]:
    """How many samples the classifier assigns to each class (argmax of its logits), and the share of the most
    frequent class: a collapsed generator puts most samples in few classes."""
    counts = np.bincount(np.argmax(np.asarray(logits), axis=1), minlength=np.asarray(logits).shape[1])
    return {"class_histogram": [int(c) for c in counts], "top_class_share": float(counts.max() / counts.sum())}
