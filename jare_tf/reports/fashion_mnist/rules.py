"""The rules the Fashion-MNIST report applies to every stored run: its outcome, the pilot's "learns steadily", and
when two methods differ beyond the seed-to-seed spread.

What a run's outcome is (stated in the report, applied to every seed):
* diverged — training stopped at a non-finite value (its scores are those of its last finite checkpoint);
* collapsed — otherwise, the classes the domain classifier assigns to its final samples have an effective number
  (exp of the histogram's entropy) below COLLAPSED_CLASSES of 10 (the training split: 10.0), whatever its FID;
* stalled — otherwise, its final FID is above STALLED_RATIO × its step-0 FID (the untrained generator's);
* learned — otherwise.
Differences between methods "exceed the seed-to-seed spread" when Welch's t-test on the per-seed final FIDs gives
p < SIGNIFICANCE.
"""

from typing import Dict, Optional, Sequence

import numpy as np

STALLED_RATIO = 0.6
COLLAPSED_CLASSES = 5.0
SIGNIFICANCE = 0.05
#: The pilot's rule for "learns steadily": FID at most STALLED_RATIO × step 0, and at the end within this factor
#: of the lowest FID the run reached (still falling or flat).
FLAT_FACTOR = 1.05
OUTCOMES = ("learned", "stalled", "collapsed", "diverged")
SCORES = (("fid", "FID", 2), ("is_mean", "IS", 2), ("kid_mean", "KID", 4), ("precision", "precision", 3),
          ("recall", "recall", 3), ("density", "density", 3), ("coverage", "coverage", 3))


def effective_classes(histogram: Sequence[int]) -> float:
    counts = np.asarray(histogram, np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def outcome(run: Dict[str, object]) -> str:
    records = run["records"]
    if "failed" in run["timing"]:
        return "diverged"
    if "class_histogram" in records[-1] and effective_classes(records[-1]["class_histogram"]) < COLLAPSED_CLASSES:
        return "collapsed"
    if records[-1]["fid"] > STALLED_RATIO * records[0]["fid"]:
        return "stalled"
    return "learned"


def learns_steadily(records: Sequence[Dict[str, object]], until: int) -> bool:
    """The pilot's rule on the records up to step `until`."""
    fids = [r["fid"] for r in records if r["step"] <= until]
    return fids[-1] <= STALLED_RATIO * fids[0] and fids[-1] <= FLAT_FACTOR * min(fids)


def welch_p(a: Sequence[float], b: Sequence[float]) -> Optional[float]:
    """Two-sided p of Welch's t-test (None with fewer than two values on a side or no spread at all)."""
    from scipy import stats
    if len(a) < 2 or len(b) < 2 or (np.std(a) == 0 and np.std(b) == 0):
        return None
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def mean_std(values: Sequence[float], digits: int) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}" if len(values) > 1 else \
        f"{values[0]:.{digits}f}"
