"""Eigenvalues of a game Jacobian and the quantities the JARE paper reads off them.

* Phase factor ζ: the largest |Im λ / Re λ| (Sec. 4, Corollary 1); infinite for a purely imaginary λ.
* Conditioning factor τ: the largest |λ| over the smallest |λ| among eigenvalues with |λ| above a tolerance
  (Corollary 2 uses |λ3/λ4| of one real pair; over a whole spectrum this is the condition-number bound).
* η_max: the largest step with |1 + ηλ| < 1 for all eigenvalues (Sec. 3 "non-asymptotic analysis"):
  |1 + ηλ|² < 1  ⟺  η < −2 Re λ / |λ|², so η_max = min_λ(−2 Re λ / |λ|²), and 0 if some Re λ ≥ 0 or some
  eigenvalue is zero (|1 + η·0| = 1: that direction is not contracted by any step).

Infinite values are written as null in JSON (`to_json`), never as the invalid token `Infinity`.
"""

import dataclasses
import math
from typing import Dict, List, Optional

import numpy as np

#: Eigenvalues with |λ| <= ZERO_TOLERANCE · max(1, max|λ|) count as zero; |Re λ| <= ZERO_TOLERANCE·|λ| as 0.
ZERO_TOLERANCE = 1e-9


@dataclasses.dataclass
class Spectrum:
    eigenvalues: np.ndarray
    zeta: float
    tau: float
    eta_max: float

    def to_json(self) -> Dict[str, object]:
        def finite(x: float) -> Optional[float]:
            return float(x) if math.isfinite(x) else None

        order = np.lexsort((self.eigenvalues.imag, self.eigenvalues.real))
        return {
            "eigenvalues": [[float(l.real), float(l.imag)] for l in self.eigenvalues[order]],
            "zeta": finite(self.zeta),
            "tau": finite(self.tau),
            "eta_max": finite(self.eta_max),
        }


def nonzero(eigenvalues: np.ndarray, tol: float = ZERO_TOLERANCE) -> np.ndarray:
    mags = np.abs(eigenvalues)
    if mags.size == 0:
        return eigenvalues
    return eigenvalues[mags > tol * max(1.0, float(mags.max()))]


def phase_factor(eigenvalues: np.ndarray, tol: float = ZERO_TOLERANCE) -> float:
    lam = nonzero(eigenvalues, tol)
    ratios: List[float] = []
    for l in lam:
        if abs(l.real) <= tol * abs(l):
            ratios.append(0.0 if abs(l.imag) <= tol * abs(l) else math.inf)
        else:
            ratios.append(abs(l.imag / l.real))
    return max(ratios, default=0.0)


def conditioning_factor(eigenvalues: np.ndarray, tol: float = ZERO_TOLERANCE) -> float:
    mags = np.abs(nonzero(eigenvalues, tol))
    return float(mags.max() / mags.min()) if mags.size else math.nan


def max_step_size(eigenvalues: np.ndarray, tol: float = ZERO_TOLERANCE) -> float:
    lam = nonzero(eigenvalues, tol)
    if lam.size < np.asarray(eigenvalues).size:
        return 0.0
    bounds = [-2.0 * l.real / abs(l) ** 2 for l in lam]
    return max(0.0, min(bounds))


def spectral_radius(matrix: np.ndarray) -> float:
    """max |λ| of a matrix: below 1 iff the discrete iteration with this Jacobian contracts locally."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(matrix, dtype=np.float64)))))


def analyse(jacobian: np.ndarray, tol: float = ZERO_TOLERANCE) -> Spectrum:
    lam = np.linalg.eigvals(np.asarray(jacobian, dtype=np.float64))
    return Spectrum(lam, phase_factor(lam, tol), conditioning_factor(lam, tol), max_step_size(lam, tol))
