"""Sec. 6 of the JARE paper on a game that satisfies its assumptions: Lemma 3's blocks, Theorem 4's form of the
SimGD eigenvalues, Theorem 5's JARE limit and the two extreme cases after Theorem 4.

The game (`LinearGaussian`, `jare-spectrum --problem=linear_gaussian`):

* data x ~ N(μ, Σ) in R^d, Σ = LLᵀ; latent z ~ N(0, κ²I_d);
* generator G_φ(z) = Az + b, φ = (A, b), n = d² + d parameters, at φ* = (L/κ, μ), so p_φ* = p_r;
* discriminator D_θ(x) = s·θᵀh(u), u = L_D⁻¹(x − μ) with Σ_D = L_D L_Dᵀ (default Σ), h the orthonormal Hermite
  polynomials of degree 1 and 2 of u (models/toy.py `HermiteQuadratic`), m = d + d(d + 1)/2 parameters, at
  θ* = 0, where D ≡ 0 (Assumption 1);
* f = E g1(D(x)) + E g2(D(G(z))) with a family that has g1′(0) = −g2′(0) (vanilla and reverse KL also satisfy
  Assumption 2's g1″(0) + g2″(0) < 0; WGAN gives Q = 0).

Lemma 3 (eq. 8–9): the SimGD Jacobian at (φ*, θ*) is A = [[0, −P], [Pᵀ, Q]] with

    P = g2′(0) E_z[∇_φG_φ(z) ∇²_xθ D_θ(x)]|_{x = G_φ(z)}   (n × m),   Q = (g1″(0) + g2″(0)) E_{p_r}[∇_θD ∇_θDᵀ].

(The appendix's proof writes g2″ in ∇²_φθ f; the derivative of E g2′(D(G(z)))∇_θD(G(z)) in φ has
g2″(D)∇_φD(G)∇_θDᵀ, which vanishes because ∇_xD = 0, plus g2′(D)∇_φG∇²_xθD: the statement's g2′(0) is right.)
At θ* every second derivative of f is a polynomial of degree ≤ 4 in z, so expectations under the 3-point
Gauss–Hermite product rule are exact; the autodiff game uses its nodes, repeated by their weights 1 : 4 : 1, as
its batch (`exact_points`), and `lemma3_formulas` evaluates eq. 9 from hand-derived gradients on the weighted
nodes, so the two sides share no derivative code.

With Σ = Σ_D = σ²I: Q = (g1″ + g2″)s²·I and PᵀP = g2′²s²/σ² · diag(I_d, 2κ²I), so κ² = ½ (`balanced`) makes
both multiples of I, the case in which the extreme cases after Theorem 4 hold exactly:
c = 4λ(PᵀP)/λ(Q)² = 4g2′²/((g1″ + g2″)²σ²s²) gives ζ = √(c − 1) for c > 1 and τ = (√(1/c) + √(1/c − 1))² for
c < 1, chosen through the discriminator's scale s.
"""

import dataclasses
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from jare_tf.analysis import closed_forms

#: Zero eigenvalues of this float64 game with an exact batch sit at rounding (≈ 1e-16·max|λ|); the project-wide
#: spectrum.ZERO_TOLERANCE (1e-9, for games fed sampled or float32 data) would count genuine ones of ill-conditioned
#: covariances (|λ| ≈ 1e-10·max|λ| at condition numbers 1e4) as zero.
EXACT_ZERO_TOLERANCE = 1e-13

#: Probabilists' 3-point Gauss–Hermite rule: nodes and weights; exact for polynomials of degree ≤ 5.
GH3_NODES = np.array([-np.sqrt(3.0), 0.0, np.sqrt(3.0)])
GH3_WEIGHTS = np.array([1.0, 4.0, 1.0]) / 6.0
GH3_REPEATS = (1, 4, 1)
MAX_DIM = 5


def product_rule(dim: int) -> Tuple[np.ndarray, np.ndarray]:
    """The 3^dim nodes of the product Gauss–Hermite rule for N(0, I_dim) and their weights."""
    grids = np.meshgrid(*[np.arange(3)] * dim, indexing="ij")
    index = np.stack([g.ravel() for g in grids], axis=1)
    return GH3_NODES[index], np.prod(GH3_WEIGHTS[index], axis=1)


def exact_points(dim: int) -> np.ndarray:
    """6^dim points whose plain mean equals the product rule: each 1-D node repeated 1, 4, 1 times."""
    line = np.repeat(GH3_NODES, GH3_REPEATS)
    grids = np.meshgrid(*[line] * dim, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def hermite_features(u: np.ndarray) -> np.ndarray:
    """h(u) of `HermiteQuadratic` for one point u: u_i, then u_i·u_j (i < j) and (u_i² − 1)/√2, i ≤ j row-major."""
    rows, cols = np.triu_indices(u.size)
    quad = np.where(rows == cols, (u[rows] ** 2 - 1) / np.sqrt(2), u[rows] * u[cols])
    return np.concatenate([u, quad])


def hermite_feature_jacobian(u: np.ndarray) -> np.ndarray:
    """∂h/∂u (m × d): e_iᵀ; u_j e_iᵀ + u_i e_jᵀ for i < j; √2 u_i e_iᵀ on the diagonal."""
    d = u.size
    rows, cols = np.triu_indices(d)
    quad = np.zeros((rows.size, d))
    for k, (i, j) in enumerate(zip(rows, cols)):
        if i == j:
            quad[k, i] = np.sqrt(2) * u[i]
        else:
            quad[k, i], quad[k, j] = u[j], u[i]
    return np.concatenate([np.eye(d), quad])


@dataclasses.dataclass
class LinearGaussian:
    """The Sec. 6 game at its equilibrium (module docstring). cov and disc_cov are d × d SPD matrices."""

    mean: Sequence[float]
    cov: np.ndarray
    latent_variance: float = 0.5
    disc_scale: float = 1.0
    disc_cov: Optional[np.ndarray] = None
    family: str = "vanilla"

    def __post_init__(self):
        def array(name, value):
            try:
                a = np.asarray(value, np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"linear_gaussian: {name} must be numbers, got {value!r}.") from None
            if not np.isfinite(a).all():
                raise ValueError(f"linear_gaussian: {name} must be finite, got {a.tolist()}.")
            return a

        self.mean = array("mean", self.mean)
        self.cov = np.atleast_2d(array("cov", self.cov))
        self.disc_cov = self.cov if self.disc_cov is None else np.atleast_2d(array("disc_cov", self.disc_cov))
        self.latent_variance = float(array("latent_variance", self.latent_variance))
        self.disc_scale = float(array("disc_scale", self.disc_scale))
        d = self.mean.size
        if self.mean.ndim != 1 or not 1 <= d <= MAX_DIM:
            raise ValueError(f"linear_gaussian needs a mean of 1 to {MAX_DIM} numbers (the data dimension; its "
                             f"exact batch has 6^dim points), got {self.mean.tolist()}.")
        for name, c in (("cov", self.cov), ("disc_cov", self.disc_cov)):
            if c.shape != (d, d) or not np.allclose(c, c.T, rtol=0, atol=1e-12 * np.abs(c).max()) or \
                    np.linalg.eigvalsh(c).min() <= 0:
                raise ValueError(f"linear_gaussian: {name} must be a symmetric positive definite {d}×{d} matrix "
                                 f"(the mean has {d} entries), got {c.tolist()}.")
        if self.latent_variance <= 0 or self.disc_scale <= 0:
            raise ValueError(f"linear_gaussian needs latent_variance > 0 and disc_scale > 0, got "
                             f"{self.latent_variance} and {self.disc_scale}.")
        if self.family not in closed_forms.LOSS_DERIVATIVES:
            raise ValueError(f"linear_gaussian: unknown loss family {self.family!r}; choose one of "
                             f"{sorted(closed_forms.LOSS_DERIVATIVES)}.")
        g = closed_forms.LOSS_DERIVATIVES[self.family]
        if g["g1p"] != -g["g2p"]:
            raise ValueError(f"Lemma 3 needs g1′(0) = −g2′(0); the {self.family} family has {g['g1p']} and "
                             f"{g['g2p']}.")

    @classmethod
    def balanced(cls, dim: int, sigma2: float, disc_scale: float, mu: float = 0.0, family: str = "vanilla"):
        """Σ = Σ_D = σ²I and κ² = ½: Q and PᵀP are both multiples of I (module docstring)."""
        if not 1 <= dim <= MAX_DIM:
            raise ValueError(f"linear_gaussian needs 1 <= dim <= {MAX_DIM} (--dim={dim} given): its exact batch "
                             f"has 6^dim points.")
        mean = np.zeros(dim)
        mean[-1] = mu
        return cls(mean, sigma2 * np.eye(dim), 0.5, disc_scale, family=family)

    @property
    def dim(self) -> int:
        return self.mean.size

    @property
    def sizes(self) -> Tuple[int, int]:
        """(n, m): the generator's and the discriminator's parameter counts."""
        d = self.dim
        return d * d + d, d + d * (d + 1) // 2

    def generator_matrix(self) -> np.ndarray:
        """A* = L/κ, so that A*z + μ ~ N(μ, Σ) for z ~ N(0, κ²I)."""
        return np.linalg.cholesky(self.cov) / np.sqrt(self.latent_variance)

    def whitening(self) -> np.ndarray:
        return np.linalg.inv(np.linalg.cholesky(self.disc_cov))

    def game(self, dtype: str = "float64"):
        """(Game, batch) at (φ*, θ*) with the exact-expectation batch: z on `exact_points`, x = G_φ*(z), so that
        the real and the generated batch are the same measure (p_φ* = p_r)."""
        import tensorflow as tf

        from jare_tf.games.game import Game
        from jare_tf.models import toy
        a = self.generator_matrix()
        z = np.sqrt(self.latent_variance) * exact_points(self.dim)
        game = Game(toy.affine_generator(a, self.mean, dtype),
                    toy.hermite_discriminator(self.mean, self.whitening(), self.disc_scale, dtype),
                    family=self.family, generator_loss="minimax", regularizer_generator_loss="same")
        return game, {"real": tf.constant(z @ a.T + self.mean, dtype), "z": tf.constant(z, dtype)}

    def lemma3_formulas(self) -> Tuple[np.ndarray, np.ndarray]:
        """(P, Q) of eq. 9 with exact expectations: weighted Gauss–Hermite nodes and hand-derived gradients.

        φ is ordered as the generator's variables (the kernel Aᵀ row-major, then b): ∂G/∂(Aᵀ)_lk = z_l e_k,
        ∂G/∂b_k = e_k, so ∇_φG(z) = [z ⊗ I_d; I_d] (n × d). ∇²_xθ D(x) = s·L_D⁻ᵀ (∂h/∂u)ᵀ (d × m)."""
        g = closed_forms.LOSS_DERIVATIVES[self.family]
        d, (n, m) = self.dim, self.sizes
        a, w, s = self.generator_matrix(), self.whitening(), self.disc_scale
        nodes, weights = product_rule(d)
        p, q = np.zeros((n, m)), np.zeros((m, m))
        for node, weight in zip(nodes, weights):
            z = np.sqrt(self.latent_variance) * node
            u = w @ (a @ z)                                     # x − μ = A*z at the equilibrium
            grad_g = np.vstack([np.kron(z[:, None], np.eye(d)), np.eye(d)])
            mixed = s * w.T @ hermite_feature_jacobian(u).T
            p += weight * grad_g @ mixed
            h = s * hermite_features(u)
            q += weight * np.outer(h, h)
        return g["g2p"] * p, (g["g1pp"] + g["g2pp"]) * q


def jacobian_blocks(jacobian: np.ndarray, n: int) -> Dict[str, np.ndarray]:
    """The blocks of a game Jacobian, generator first: φφ, φθ, θφ, θθ."""
    return {"pp": jacobian[:n, :n], "pt": jacobian[:n, n:], "tp": jacobian[n:, :n], "tt": jacobian[n:, n:]}


def lemma3_errors(simgd_jacobian: np.ndarray, p: np.ndarray, q: np.ndarray) -> Dict[str, float]:
    """Max |autodiff − eq. 8| per block, relative to max|P| (φφ, φθ, θφ) and max|Q| (θθ; absolute if Q = 0)."""
    b = jacobian_blocks(simgd_jacobian, p.shape[0])
    scale_p, scale_q = np.abs(p).max(), max(np.abs(q).max(), 1.0 if not q.any() else 0.0)
    return {"zero_block": float(np.abs(b["pp"]).max() / scale_p),
            "minus_p": float(np.abs(b["pt"] + p).max() / scale_p),
            "p_transpose": float(np.abs(b["tp"] - p.T).max() / scale_p),
            "q": float(np.abs(b["tt"] - q).max() / scale_q)}


#: Theorem 4's check: an eigenvalue's distance from the allowed set up to this times ε·max|λ| is an eigensolver's
#: rounding (repeated real eigenvalues, which this game has, come out split into near-real pairs).
ROUNDING_DISTANCE = 1e3 * float(np.finfo(np.float64).eps)


def _real_form_distance(x: float, q_lo: float, q_hi: float, p_lo: float, p_hi: float) -> float:
    """Distance from a real x to R = {x : x² − a1x + a2 = 0 for some a1 ∈ [q_lo, q_hi], a2 ∈ [p_lo, p_hi]}.

    x ∈ R iff the interval of a1·x − x² over a1 meets [p_lo, p_hi]; R's boundary points are roots of
    x² − a1x + a2 with a1 and a2 at the ends of their intervals."""
    ends = (q_lo * x - x * x, q_hi * x - x * x)
    if min(ends) <= p_hi and max(ends) >= p_lo:
        return 0.0
    roots = [(a1 + sign * np.sqrt(a1 * a1 - 4 * a2)) / 2 for a1 in (q_lo, q_hi) for a2 in (p_lo, p_hi)
             if a1 * a1 >= 4 * a2 for sign in (-1.0, 1.0)]
    return min((abs(x - r) for r in roots), default=float("inf"))


def _complex_form_distance(lam: complex, q_lo: float, q_hi: float, p_lo: float, p_hi: float) -> float:
    """Distance from λ to C = {x + iy : 2x ∈ [q_lo, q_hi], x² + y² ∈ [p_lo, p_hi]}, the complex roots' set (its
    closure): a vertical strip met with an annulus. Inside, 0; otherwise the nearest of the radial projections
    onto the two circles that fall in the strip and the nearest points of the strip's edges in the annulus."""
    x, y = lam.real, abs(lam.imag)
    x_lo, x_hi, r_lo, r_hi = q_lo / 2, q_hi / 2, np.sqrt(max(p_lo, 0.0)), np.sqrt(max(p_hi, 0.0))
    r = abs(lam)
    if x_lo <= x <= x_hi and r_lo <= r <= r_hi:
        return 0.0
    best = float("inf")
    for radius in (r_lo, r_hi):                             # radial projection onto a circle, if in the strip
        px, py = (radius * x / r, radius * y / r) if r > 0 else (radius, 0.0)
        if x_lo <= px <= x_hi:
            best = min(best, float(np.hypot(x - px, y - py)))
    for edge in (x_lo, x_hi):                               # the strip's edge x = edge within the annulus
        if edge * edge > p_hi:
            continue
        y_lo, y_hi = np.sqrt(max(p_lo - edge * edge, 0.0)), np.sqrt(p_hi - edge * edge)
        best = min(best, float(np.hypot(x - edge, y - np.clip(y, y_lo, y_hi))))
    return best


def theorem4_violation(eigenvalues: np.ndarray, q: np.ndarray, ptp: np.ndarray,
                       tol: float = EXACT_ZERO_TOLERANCE) -> Dict[str, object]:
    """How far the nonzero eigenvalues are from Theorem 4's form λ = (a1 ± √(a1² − 4a2))/2 with
    a1 ∈ [λmin(Q), λmax(Q)] and a2 ∈ [λmin(PᵀP), λmax(PᵀP)].

    The allowed set is the real roots R and the complex roots C of λ² − a1λ + a2 over those intervals: a complex
    λ fixes a1 = 2 Re λ and a2 = |λ|², so C is a strip met with an annulus; a real λ is in R iff a1λ − λ² meets
    [λmin(PᵀP), λmax(PᵀP)] for some a1. Each eigenvalue's violation is its distance to R ∪ C, less rounding
    (ROUNDING_DISTANCE·max|λ|; repeated real eigenvalues come out of an eigensolver split into near-real pairs),
    over its own |λ|: a relative error of that eigenvalue, so a small eigenvalue of the wrong sign reads ≈ 2
    beside large ones. Returns the largest (0 when every eigenvalue has the form) and how many eigenvalues are
    zero (the y2 = 0 case of the proof: y1 in the null space of Pᵀ), counted below tol·max|λ|."""
    q_lo, q_hi = np.linalg.eigvalsh(q)[[0, -1]]
    p_lo, p_hi = np.linalg.eigvalsh(ptp)[[0, -1]]
    eigenvalues = np.asarray(eigenvalues, complex)
    scale = float(np.abs(eigenvalues).max()) if eigenvalues.size else 0.0
    worst, zeros = 0.0, 0
    for lam in eigenvalues:
        if abs(lam) <= tol * scale:
            zeros += 1
            continue
        distance = min(float(np.hypot(_real_form_distance(lam.real, q_lo, q_hi, p_lo, p_hi), lam.imag)),
                       _complex_form_distance(lam, q_lo, q_hi, p_lo, p_hi))
        worst = max(worst, max(distance - ROUNDING_DISTANCE * scale, 0.0) / abs(lam))
    return {"violation": float(worst), "zero_eigenvalues": zeros,
            "a1_range": [float(q_lo), float(q_hi)], "a2_range": [float(p_lo), float(p_hi)]}


def simgd_checks(spec: LinearGaussian) -> Dict[str, object]:
    """Lemma 3 (the autodiff SimGD Jacobian's blocks against eq. 9), Theorem 4 (its eigenvalues), rank P and the
    extreme cases of one game: what jare-spectrum --problem=linear_gaussian prints and the toy report tabulates."""
    from jare_tf import methods
    from jare_tf.analysis import jacobian
    game, batch = spec.game()
    simgd = jacobian.vector_field_jacobian(methods.get("gan"), game, batch)
    p, q = spec.lemma3_formulas()
    ptp = p.T @ p
    n, m = spec.sizes
    return {"generator_parameters": n, "discriminator_parameters": m,
            "lemma3_relative_error": lemma3_errors(simgd, p, q),
            "theorem4": theorem4_violation(np.linalg.eigvals(simgd), q, ptp),
            "rank_p": int(np.linalg.matrix_rank(p)),
            "extreme_cases": extreme_cases(q, ptp)}


def theorem5_limit(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """λ(A)/γ as γ → ∞ for JARE (Appendix E.3): the eigenvalues of −[[PPᵀ, PQ], [0, PᵀP]], i.e. −λ(PPᵀ) and
    −λ(PᵀP) (block triangular)."""
    return np.concatenate([-np.linalg.eigvalsh(p @ p.T), -np.linalg.eigvalsh(p.T @ p)])


def theorem5_error(eigenvalues: np.ndarray, gamma: float, limit: np.ndarray) -> float:
    """max |λ_i/γ − μ_i| / max|μ| over the best one-to-one matching of JARE's eigenvalues λ_i at γ to the
    limit μ_i (Theorem 5, eq. 12)."""
    from scipy.optimize import linear_sum_assignment
    scaled = np.asarray(eigenvalues) / gamma
    cost = np.abs(scaled[:, None] - limit[None, :])
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].max() / np.abs(limit).max())


def scalar_simgd_eigenvalues(q: float, p: float) -> np.ndarray:
    """Q = qI, PᵀP = pI: Theorem 4 with a1 = q, a2 = p, (q ± √(q² − 4p))/2."""
    root = np.sqrt(complex(q * q - 4 * p))
    return np.array([(q + root) / 2, (q - root) / 2])


def scalar_jare_eigenvalues(q: float, p: float, gamma: float) -> np.ndarray:
    """Q = qI, PᵀP = pI, JARE with weight γ: on each singular pair of P, Γ·A restricts to
    [[−γp, −√p(1 + γq)], [√p, q − γp]], so λ² − (q − 2γp)λ + (γ²p² + p) = 0."""
    t, det = q - 2 * gamma * p, gamma ** 2 * p ** 2 + p
    root = np.sqrt(complex(t * t - 4 * det))
    return np.array([(t + root) / 2, (t - root) / 2])


def extreme_cases(q: np.ndarray, ptp: np.ndarray) -> Dict[str, object]:
    """The two cases after Theorem 4. c = 4λmin(PᵀP)/λmin(Q)² (case 1, c > 1: complex eigenvalues with
    ζ = √(c − 1)) and c′ = 4λmax(PᵀP)/λmax(Q)² (case 2, c′ < 1: real eigenvalues with
    τ = (√(1/c′) + √(1/c′ − 1))²). The predictions are exact when Q and PᵀP are multiples of I (`scalar`);
    otherwise they are lower bounds, from Theorem 4's form with a1 and a2 at the ends of their intervals: every
    complex eigenvalue has |Im λ|/|Re λ| = √(4a2/a1² − 1) ≥ √(c − 1), and the roots of every real pair have a
    ratio ≥ τ, so the spectrum's τ is at least that."""
    q_eigs, p_eigs = np.linalg.eigvalsh(q), np.linalg.eigvalsh(ptp)
    scalar = bool(np.ptp(q_eigs) <= 1e-12 * np.abs(q_eigs).max() and np.ptp(p_eigs) <= 1e-12 * p_eigs.max())
    out: Dict[str, object] = {"scalar": scalar, "c": None, "c_prime": None, "predicted_zeta": None,
                              "predicted_tau": None}
    if q_eigs[0] == 0 or q_eigs[-1] == 0:
        return out                                  # Q = 0 (WGAN): no convergence rate to speak of
    c = 4 * p_eigs[0] / q_eigs[0] ** 2
    c_prime = 4 * p_eigs[-1] / q_eigs[-1] ** 2
    out.update(c=float(c), c_prime=float(c_prime))
    if c > 1:
        out["predicted_zeta"] = float(np.sqrt(c - 1))
    if c_prime < 1:
        out["predicted_tau"] = float((np.sqrt(1 / c_prime) + np.sqrt(1 / c_prime - 1)) ** 2)
    return out
