"""The linearised optimizer step: the Jacobian of the update Adam, RMSProp or SGD really applies, beside the
plain field's (`jare-spectrum --workdir --operator=optimizer`, `--config.spectrum_operator=optimizer`).

The paper studies w ← w + η·h(w), h = −u the method's field, through A = ∂h/∂w and |1 + ηλ| < 1 (Sec. 3,
eq. 5–6). The optimizers of the settings take another step, coordinate by coordinate (training/optimizers.py):

    Adam (Keras' ε-hat form):  w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m_t/(√v_t + ε),
                               m_t = β₁m + (1 − β₁)u,  v_t = β₂v + (1 − β₂)u²,  t the step's number
    RMSProp (TF1 semantics):   w ← w − η·u/√(ms_t + ε),  ms_t = ρ·ms + (1 − ρ)u²,  ms₀ = 1
    SGD:                       w ← w − η·u   (with momentum β: m ← βm − ηu, w ← w + m)

that is w ← w − η·P·u with a diagonal preconditioner P, and for Adam an exponential average of u.

**The operator.** P is held at its value at the checkpoint: the factor the checkpoint's last step (number t,
the optimizers' iteration count) applied, read from the optimizers' slots,

    Adam     P_i = √(1 − β₂ᵗ)/(√v_t,i + ε) = 1/(√v̂_t,i + ε/√(1 − β₂ᵗ)),  v̂ = v_t/(1 − β₂ᵗ) (bias-corrected)
    RMSProp  P_i = 1/√(ms_t,i + ε)        (centred: 1/√(ms_t,i − mg_t,i² + ε))
    SGD      P_i = 1

and the players' learning rates enter as the ratio r = η_player/η to η, the discriminator's learning rate (the
plain step the field's operator of a multi-stage method also takes). The operator is

    M = D·A,   D = diag(r_i·P_i),   A = ∂h/∂w = −∂u/∂w   (a lazy method's h averaged over its cycle, as the field)

the Jacobian of the momentum-free step δw ← (I + η·M)·δw (Adam with β₁ = 0, RMSProp, SGD). Its Krylov values
come with the same residuals, ζ and η_max = min −2 Re λ/|λ|² as the field's (krylov.py). D = I (SGD, equal
learning rates) gives M = A.

**The first moment** is part of the state: one step is linear in (δw, δy), y the step the momentum buffer holds
(Adam: y = η·c·D·m with c = 1/(1 − β₁ᵗ); SGD: y = −m; RMSProp with momentum: y = m), β the momentum and f its
gain on u (Adam f = (1 − β₁)·c, SGD and RMSProp f = 1):

    δy' = β·δy − η·f·M·δw,   δw' = δw − δy'.

On an eigenvector of M with eigenvalue λ this is a 2 × 2 block, whose eigenvalues are the roots of Polyak's
heavy-ball polynomial z² − (1 + β + s)·z + β = 0, s = η·f·λ, so the 2n-dimensional iteration needs no Krylov run of
its own: both roots lie in the unit disc iff s lies inside the image of |z| = 1 under s = z + β/z − (1 + β), the
ellipse centred at −(1 + β) with semi-axes 1 + β (real) and 1 − β (imaginary), i.e. iff

    η < η_max^β(λ) = (2·(−Re λ)/(1 + β)) / (f·((Re λ)²/(1 + β)² + (Im λ)²/(1 − β)²)),

which is −2 Re λ/|λ|² for β = 0, f = 1. `eta_max_momentum` is its minimum over the converged Ritz values. For a
real λ = −a momentum widens the bound to 2(1 + β)/(f·a) (Adam: 3× the momentum-free 2/a at β₁ = 0.5); for a
rotational λ (|Im λ| ≫ |Re λ|) it narrows it by (1 − β)²/((1 + β)·f) (Adam: (1 − β₁)/(1 + β₁) = 1/3 at
β₁ = 0.5): positive momentum makes a game's oscillatory modes less stable (Gidel et al. 2019, "Negative
momentum for improved game dynamics"). That needs one β for both players (true for every single-stage method
here); with different ones there is no such reduction and `momentum` is reported as None.

**Holding P fixed** drops the derivative of P through this step's u² and the second moment's own dynamics. Both
vanish at a stationary point of the optimizer (u = 0, m = 0), where the linearisation of the whole state
(w, m, v) is block-triangular with v's block β₂·I (stable): there the spectrum above, with the v-block's β₂, is
the exact one. Away from it, the dropped term changes coordinate i's factor for RMSProp without momentum from
P_i to P_i·(1 − (1 − ρ)·u_i²·P_i²) ∈ [ρ·P_i, P_i] (the derivative of u/√(ρ·ms + (1 − ρ)u² + ε) in u), so the
fixed-P step overstates none by more than 1/ρ (11 % at ρ = 0.9); for Adam it is a relative
(1 − β₂)/(1 − β₁)·m̂_i·u_i/v̂_i, 2·10⁻³ at the image settings' β = (0.5, 0.999) where |u|, |m̂| ≈ √v̂.

Defined where one iteration is one optimizer step on one field of both players: a multi-stage method (AltGD,
WGAN with n_d > 1) steps each player on the other's updated parameters and is refused. Adversarial
extrapolation is single-stage: its look-ahead is a plain step inside its directions (methods/extrapolation.py),
and the one optimizer step applies u. Optimizers that have taken no step (iteration count 0) have no second
moment to precondition with, and are refused.
"""

import dataclasses
import math
from typing import Dict, Optional

import numpy as np

from jare_tf.analysis import spectrum
from jare_tf.methods import base, lazy

#: The operators the logged and the --workdir spectra can analyse.
OPERATORS = ("field", "optimizer")


def check_operator(operator: str, flag: str = "--operator") -> None:
    if operator not in OPERATORS:
        raise ValueError(f"{flag}={operator!r}: choose one of {', '.join(OPERATORS)}.")


def check_method(method: base.Method, flag: str = "--operator=optimizer") -> None:
    """Refuse a multi-stage method, for which the linearised step of one preconditioned field is not defined."""
    stages = lazy.cycle_average(method).stages()
    if len(stages) != 1 or stages[0].repeats != 1 or set(stages[0].players) != {"g", "d"}:
        shown = ", ".join(f"{'+'.join(s.players)}×{s.repeats}" for s in stages)
        raise ValueError(f"{flag}: --method={method.name} updates in stages ({shown}), each an optimizer step on "
                         f"the other player's updated parameters, so there is no single preconditioned field to "
                         f"linearise; use the field operator (its plain steps' (∂F_h/∂w − I)/h).")


@dataclasses.dataclass
class Preconditioner:
    """D = diag(r·P) in jacobian.flatten's order (generator first), and what the momentum bound needs."""
    diagonal: np.ndarray            # float64, one entry per parameter
    sizes: tuple                    # parameters of (generator, discriminator)
    names: tuple                    # the optimizers' kinds, (generator, discriminator)
    learning_rate: float            # η: the discriminator's learning rate, the scale of M's step
    ratios: tuple                   # η_player/η
    iterations: int                 # t: the step that produced the checkpoint
    momentum: Optional[float]       # β shared by both players (0.0: none), None if they differ
    gain: Optional[float]           # f, the momentum buffer's gain on u

    def summary(self, eigenvalues: np.ndarray) -> Dict[str, object]:
        """The preconditioner (min, median, max of D per player), eta_max_momentum over `eigenvalues` (the
        converged Ritz values of M; None without momentum) and stable_at_learning_rate: whether η is below the
        bound that applies (η_max^β with momentum, else η_max; None when the players' momenta differ or no value
        converged). Over the top k only: False is conclusive (a mode the step amplifies), True speaks for the
        modes found."""
        def finite(x):
            return float(x) if x is not None and math.isfinite(x) else None
        g, d = self.diagonal[:self.sizes[0]], self.diagonal[self.sizes[0]:]
        with_momentum = None if self.momentum is None or not self.momentum else momentum_step_bound(
            eigenvalues, self.momentum, self.gain)
        if self.momentum is None:
            bound = math.nan                      # the players' momenta differ: no bound from M's spectrum
        elif self.momentum:
            bound = with_momentum
        else:
            bound = spectrum.max_step_size(eigenvalues) if len(eigenvalues) else math.nan
        return {"optimizer": {"names": list(self.names), "iterations": self.iterations,
                              "learning_rate": self.learning_rate, "learning_rate_ratios": list(self.ratios),
                              "momentum": self.momentum, "momentum_gain": self.gain,
                              "preconditioner": {player: [float(p.min()), float(np.median(p)), float(p.max())]
                                                 for player, p in (("g", g), ("d", d)) if p.size}},
                "eta_max_momentum": finite(with_momentum),
                "stable_at_learning_rate": None if math.isnan(bound) else bool(self.learning_rate < bound)}


def momentum_step_bound(eigenvalues: np.ndarray, beta: float, gain: float,
                        tol: float = spectrum.ZERO_TOLERANCE) -> float:
    """min over λ of η_max^β(λ) (module docstring): the largest η at which the heavy-ball iteration with momentum
    β and gain f is stable on every λ; 0 if some Re λ ≥ 0 or some λ is zero, nan for no eigenvalues."""
    values = np.asarray(eigenvalues)
    if values.size == 0:
        return math.nan
    lam = spectrum.nonzero(values, tol)
    if lam.size < values.size:
        return 0.0
    c, d = 1.0 + beta, 1.0 - beta
    bounds = [2.0 * (-l.real) / c / (gain * ((l.real / c) ** 2 + (l.imag / d) ** 2)) for l in lam]
    return max(0.0, min(bounds))


def _learning_rate(optimizer) -> float:
    """The learning rate as the optimizer holds it (float32), written with the fewest digits (1e-4, not
    1.0000000474974513e-4)."""
    import keras
    return float(str(np.float32(keras.ops.convert_to_numpy(optimizer.learning_rate))))


def _player(optimizer, variables, player: str, flag: str, where: str):
    """(P over the player's variables flattened, kind, momentum β, gain f) for one Keras optimizer."""
    import keras
    t = int(keras.ops.convert_to_numpy(optimizer.iterations))
    kind = type(optimizer).__name__

    def slots(name):
        held = getattr(optimizer, name)
        return [np.asarray(held[optimizer._get_variable_index(v)].numpy(), np.float64).reshape(-1)
                for v in variables]

    if isinstance(optimizer, (keras.optimizers.Adam, keras.optimizers.RMSprop)):
        if t == 0:
            raise ValueError(
                f"{flag}: the {player} optimizer ({kind}){where} has taken no step (iteration count 0, "
                f"as at step 0), so it holds no second moment to precondition with (Adam: v = 0 and 1 − β₂⁰ = 0; "
                f"RMSProp: the accumulator's initial ones); analyse a later checkpoint, or the field operator.")
    if isinstance(optimizer, keras.optimizers.Adam):
        beta1, beta2, eps = float(optimizer.beta_1), float(optimizer.beta_2), float(optimizer.epsilon)
        v = np.concatenate(slots("_velocity_hats" if optimizer.amsgrad else "_velocities"))
        p = math.sqrt(1.0 - beta2 ** t) / (np.sqrt(v) + eps)
        return p, "adam", beta1, (1.0 - beta1) / (1.0 - beta1 ** t)
    if isinstance(optimizer, keras.optimizers.RMSprop):
        ms = np.concatenate(slots("_velocities"))
        if optimizer.centered:
            ms = ms - np.concatenate(slots("_average_gradients")) ** 2
        return 1.0 / np.sqrt(ms + float(optimizer.epsilon)), "rmsprop", float(optimizer.momentum), 1.0
    if isinstance(optimizer, keras.optimizers.SGD):
        if optimizer.nesterov:
            raise ValueError(f"{flag}: the {player} optimizer is SGD with Nesterov momentum, whose "
                             f"linearised step is not analysed here; use the field operator.")
        n = sum(int(np.prod(v.shape)) for v in variables)
        return np.ones(n), "sgd", float(optimizer.momentum), 1.0
    raise ValueError(f"{flag}: the {player} optimizer is {kind}; the linearised step is defined for "
                     f"Adam, RMSprop and SGD.")


def preconditioner(optimizers, game, method: Optional[base.Method] = None,
                   flag: str = "--operator=optimizer", where: str = "") -> Preconditioner:
    """D = diag(r·P) of the players' optimizers (a Players of Keras optimizers, built on game.variables()) at
    their current slots; `method`, when given, is checked first (check_method). Errors name `flag`, and `where`
    (e.g. " at <checkpoint>") says whose optimizers."""
    if method is not None:
        check_method(method, flag)
    variables = game.variables()
    eta = _learning_rate(optimizers.d)
    parts = [(_player(opt, vs, name, flag, where), _learning_rate(opt) / eta)
             for opt, vs, name in zip(optimizers, variables, ("generator", "discriminator"))]
    import keras
    iterations = {int(keras.ops.convert_to_numpy(opt.iterations)) for opt in optimizers}
    (pg, kind_g, beta_g, gain_g), r_g = parts[0]
    (pd, kind_d, beta_d, gain_d), r_d = parts[1]
    same = beta_g == beta_d and math.isclose(gain_g, gain_d, rel_tol=1e-12)
    return Preconditioner(np.concatenate([r_g * pg, r_d * pd]), (pg.size, pd.size), (kind_g, kind_d), eta,
                          (r_g, r_d), max(iterations), beta_g if same else None, gain_g if same else None)
