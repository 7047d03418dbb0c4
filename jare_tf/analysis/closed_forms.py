"""Closed forms from the papers, used to check the autodiff analysis (and by the tests).

Isotropic example (JARE paper Sec. 4): x ~ N(v, σ²I), z ~ N(0, σ²I), G_φ(z) = z + φ, D_θ(x) = θᵀx, at the
equilibrium (φ*, θ*) = (v, 0). Lemma 2 gives the Hessian blocks of f

    ∇²_φφ f = 0,  ∇²_φθ f = ∇²_θφ f = g2′(0) I,  ∇²_θθ f = (g1″(0) + g2″(0)) (σ²I + vvᵀ),

the SimGD Jacobian of eq. (6) is A = [[−∇²_φφ f, −∇²_φθ f], [∇²_θφ f, ∇²_θθ f]], and the regularised methods of
Sec. 5.1 / 6 have Jacobian Γ·A. Theorems 1 and 3 give the eigenvalues in closed form for the vanilla loss
(g2′(0) = −½, g1″(0) = g2″(0) = −¼).

Dirac-GAN (Mescheder et al. 2018, Sec. 2.2 and 3): f(t) = −log(1 + e^{−t}) with f′(0) = ½, f″(0) = −¼; Lemma 2.2
(SimGD: ±i f′(0)), Lemma 3.2 (instance noise) and Lemma 3.3 (R1/R2).
"""

from typing import Dict

import numpy as np

#: g1′(0), g1″(0), g2′(0), g2″(0) of each loss family (games/losses.py), derived by hand: vanilla
#: g1(t) = g2(−t) = −log(1 + e^{−t}); reverse KL g1(t) = −e^{−t}, g2(t) = 1 − t; WGAN g1(t) = g2(−t) = t.
LOSS_DERIVATIVES = {
    "vanilla": {"g1p": 0.5, "g1pp": -0.25, "g2p": -0.5, "g2pp": -0.25},
    "reverse_kl": {"g1p": 1.0, "g1pp": -1.0, "g2p": -1.0, "g2pp": 0.0},
    "wgan": {"g1p": 1.0, "g1pp": 0.0, "g2p": -1.0, "g2pp": 0.0},
}


def isotropic_hessian_blocks(sigma2: float, v: np.ndarray, g1pp: float = -0.25, g2p: float = -0.5,
                             g2pp: float = -0.25) -> Dict[str, np.ndarray]:
    """Lemma 2 (eq. 4) at the equilibrium: the blocks of ∇²f for the isotropic example."""
    v = np.asarray(v, dtype=np.float64)
    n = v.size
    eye = np.eye(n)
    return {"pp": np.zeros((n, n)), "pt": g2p * eye, "tp": g2p * eye,
            "tt": (g1pp + g2pp) * (sigma2 * eye + np.outer(v, v))}


def simgd_jacobian(blocks: Dict[str, np.ndarray]) -> np.ndarray:
    """A = ∂∇̃f/∂w (eq. 6) with ∇̃f = (−∇_φ f, ∇_θ f)."""
    return np.block([[-blocks["pp"], -blocks["pt"]], [blocks["tp"], blocks["tt"]]])


def regularisation_matrix(method: str, blocks: Dict[str, np.ndarray], gamma: float) -> np.ndarray:
    """Γ of Sec. 5.1 (gen_only, conopt, disc_only) and Sec. 6 (jare); identity for gan."""
    n_phi, n_theta = blocks["pp"].shape[0], blocks["tt"].shape[0]
    i_p, i_t = np.eye(n_phi), np.eye(n_theta)
    z_pt, z_tp = np.zeros((n_phi, n_theta)), np.zeros((n_theta, n_phi))
    g = gamma
    table = {
        "gan": [[i_p, z_pt], [z_tp, i_t]],
        "gen_only": [[i_p, -g * blocks["pt"]], [z_tp, i_t]],
        "disc_only": [[i_p, z_pt], [g * blocks["tp"], i_t]],
        "jare": [[i_p, -g * blocks["pt"]], [g * blocks["tp"], i_t]],
        "conopt": [[i_p + g * blocks["pp"], -g * blocks["pt"]], [g * blocks["tp"], i_t - g * blocks["tt"]]],
    }
    if method not in table:
        raise ValueError(f"No regularisation matrix for {method!r}; known: {sorted(table)}.")
    return np.block(table[method])


def theorem1_eigenvalues(sigma2: float, mu: float) -> np.ndarray:
    """SimGD on the isotropic example (2-D, v = [0, μ]): (−s ± √(s² − 4))/4 for s ∈ {σ², β² = σ² + μ²}."""
    beta2 = sigma2 + mu ** 2
    return np.array([(-s + sign * np.sqrt(complex(s * s - 4))) / 4 for s in (sigma2, beta2) for sign in (1, -1)])


def theorem3_eigenvalues(sigma2: float, mu: float, gamma: float) -> np.ndarray:
    """JARE on the isotropic example: (−(s + γ) ± √((s + γ)² − (γ² + 4)))/4 for s ∈ {σ², β²}."""
    beta2 = sigma2 + mu ** 2
    return np.array([(-(s + gamma) + sign * np.sqrt(complex((s + gamma) ** 2 - (gamma ** 2 + 4)))) / 4
                     for s in (sigma2, beta2) for sign in (1, -1)])


def jare_eta_max(sigma2: float, mu: float, gamma: float) -> float:
    """The step-size bound of Sec. 6: 8·min{(γ + σ²)/(γ² + 4), 1/((β² + γ) + √(2β²γ + β⁴ − 4))}.

    The formula assumes Theorem 3's regime, where λ1,2 are complex (σ⁴ + 2σ²γ < 4) and λ3,4 real
    (β⁴ + 2β²γ > 4); outside it a term is not a bound (or is NaN), so it refuses.
    """
    beta2 = sigma2 + mu ** 2
    if not (sigma2 ** 2 + 2 * sigma2 * gamma < 4 < beta2 ** 2 + 2 * beta2 * gamma):
        raise ValueError(f"jare_eta_max holds for σ⁴ + 2σ²γ < 4 < β⁴ + 2β²γ; got σ² = {sigma2}, μ = {mu}, "
                         f"γ = {gamma}. Use spectrum.max_step_size(theorem3_eigenvalues(...)).")
    return 8 * min((gamma + sigma2) / (gamma ** 2 + 4),
                   1 / ((beta2 + gamma) + np.sqrt(2 * beta2 * gamma + beta2 ** 2 - 4)))


def dirac_simgd(fp: float = 0.5) -> np.ndarray:
    """Lemma 2.2: ±i f′(0)."""
    return np.array([1j * fp, -1j * fp])


def dirac_jare(gamma: float, fp: float = 0.5) -> np.ndarray:
    """JARE and ConOpt on the Dirac-GAN (∇²_φφ f = ∇²_θθ f = 0 there): −γf′(0)²·… = −γ/4 ± i/2 for f′(0) = ½.

    Γ·A = [[−γf′², f′], [−f′, −γf′²]], eigenvalues −γf′(0)² ± i f′(0).
    """
    return np.array([-gamma * fp ** 2 + 1j * fp, -gamma * fp ** 2 - 1j * fp])


def dirac_gradient_penalty(gamma: float, fp: float = 0.5) -> np.ndarray:
    """Lemma 3.3 (R1 and R2): −γ/2 ± √(γ²/4 − f′(0)²)."""
    root = np.sqrt(complex(gamma ** 2 / 4 - fp ** 2))
    return np.array([-gamma / 2 + root, -gamma / 2 - root])


def dirac_instance_noise(sigma: float, fp: float = 0.5, fpp: float = -0.25) -> np.ndarray:
    """Lemma 3.2: f″(0)σ² ± √(f″(0)²σ⁴ − f′(0)²)."""
    root = np.sqrt(complex(fpp ** 2 * sigma ** 4 - fp ** 2))
    return np.array([fpp * sigma ** 2 + root, fpp * sigma ** 2 - root])


def dirac_lazy_jare_rate(gamma: float, every: int, step_size: float, fp: float = 0.5) -> float:
    """Per-iteration rate ρ^(1/k) of lazy JARE (or ConOpt) on the Dirac-GAN with every = k and step η.

    At (0, 0) the plain step is I + ηA_plain = [[1, −ηf′], [ηf′, 1]] and the regularised one (weight kγ) is
    I + ηA_reg = [[1 − ηkγf′², −ηf′], [ηf′, 1 − ηkγf′²]]. Both are a scaling times a rotation, so they commute
    and the k-iteration operator F = F_reg ∘ F_plainᵏ⁻¹ is one too, with both eigenvalues of modulus
        ρ = √((1 − ηkγf′²)² + η²f′²) · (1 + η²f′²)^((k−1)/2),
    the product of the k steps' moduli. Per iteration: ρ^(1/k). See `dirac_lazy_jare_stable_gammas`.
    """
    a, k, eta = fp, int(every), step_size
    rho = np.sqrt((1 - eta * k * gamma * a ** 2) ** 2 + (eta * a) ** 2) * (1 + (eta * a) ** 2) ** ((k - 1) / 2)
    return float(rho ** (1.0 / k))


def dirac_lazy_jare_stable_gammas(every: int, step_size: float, fp: float = 0.5):
    """The γ for which lazy JARE/ConOpt converges locally on the Dirac-GAN (ρ < 1 above): with c = ηkγf′² and
    R = (1 + η²f′²)^(1−k) − η²f′², ρ < 1 iff 1 − √R < c < 1 + √R. So the window of γ is
    ((1 − √R), (1 + √R)) / (ηkf′²): it shrinks as 1/k, the regularised step overshooting once ηkγf′² passes
    1 + √R (about 2); and when R ≤ 0 (k − 1 plain steps expand by more than one regularised step can undo) no γ
    converges. Returns (γ_low, γ_high), or None when R ≤ 0."""
    a, k, eta = fp, int(every), step_size
    r = (1 + (eta * a) ** 2) ** (1 - k) - (eta * a) ** 2
    if r <= 0:
        return None
    scale = eta * k * a ** 2
    return float((1 - np.sqrt(r)) / scale), float((1 + np.sqrt(r)) / scale)
