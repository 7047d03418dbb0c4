"""Matrix-free spectra of the applied update: the Jacobian J = ∂h/∂w of h = −u (u: the directions a Method
returns to the trainer, as in `jacobian`; a lazy method's averaged over its cycle, `lazy.cycle_average`) as an
operator v ↦ Jv, its transpose v ↦ Jᵀv, and Krylov eigenvalues.

Nothing n × n is formed, so this works on networks far beyond `jacobian.MAX_DENSE_PARAMETERS`:

* Jv is a forward-mode derivative (tf.autodiff.ForwardAccumulator) through the method's directions, which are
  themselves reverse-mode gradients (forward-over-reverse; for JARE and ConOpt the directions already hold
  Hessian–vector products, so this is one order higher). Jᵀv is one reverse-mode pass over the same function.
  Both are traced once (tf.function) and then cost about one (second-order methods: a few) training steps each.
  Forward-over-reverse was picked by measurement over reverse-over-reverse (Jv as the VJP, in a dummy cotangent u,
  of u ↦ Jᵀu): for JARE on setting C at batch 64, 1.65 s against 4.44 s per product; on mog_numerics 2.9 against
  2.7 ms (2 CPU cores, the machine busy with other work, so ratios only).
* The eigenvalues come from scipy's implicitly restarted Arnoldi (ARPACK, `scipy.sparse.linalg.eigs`) on that
  operator: the k of largest magnitude (which="magnitude") or of largest imaginary part ("imaginary"; ARPACK
  finds the extreme imaginary part reliably, the next ones less so than it finds magnitudes). Each Ritz
  pair carries its residual ‖Jx − λx‖ / ‖x‖, so a reader can see which converged; ζ and η_max are taken over the
  converged ones only (residual ≤ √ε·max(1, max|λ|), ε of the network's dtype). ARPACK is asked for machine
  precision in float64 and for 10ε in float32, the most a float32 operator can give.
* τ, the conditioning factor, needs the smallest non-zero |λ| as well, which Krylov iterations on J do not give
  cheaply (they converge to the outer spectrum first; shift-invert would need solves with J). It is not
  reported here; the dense analysis gives it where n is small.

Multi-stage methods (AltGD, WGAN with n_d > 1) have no single update field; as in `jacobian`, their operator is
(∂F_h/∂w − I)/h for the update operator F_h of plain steps of size h through the stages.

With a preconditioner D (optimizer_step.py) the operator is that of the linearised optimizer step, M = D·J with
D = diag(r·P) held fixed (a constant of the traced products, not differentiated): Jv becomes D·(Jv) and Jᵀv
becomes Jᵀ(D·v), the same products on a rescaled vector.
"""

import dataclasses
import time
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf

from jare_tf.analysis import jacobian, spectrum
from jare_tf.games.game import Game, Players
from jare_tf.methods import base, lazy

WHICH = {"magnitude": "LM", "imaginary": "LI"}


def order(values: np.ndarray, which: str) -> np.ndarray:
    """Indices of `values` best first: by |λ| for "magnitude"; for "imaginary" by |Im λ| (ARPACK's "LI": J is
    real, so its eigenvalues come in conjugate pairs and each stands for the other), a pair's +Im member first."""
    values = np.asarray(values)
    if which == "magnitude":
        return np.argsort(-np.abs(values), kind="stable")
    return np.lexsort((-values.imag, -np.abs(values.imag)))


def converged_below(dtype) -> float:
    """A Ritz pair counts as converged when its residual is at most this times max(1, the largest |λ| found):
    √ε of the operator's dtype (1.5e-8 in float64, 3.5e-4 in float32, whose products carry ε‖J‖‖x‖ of noise)."""
    return float(np.sqrt(np.finfo(np.dtype(dtype)).eps))


class AppliedUpdate:
    """v ↦ Jv and v ↦ Jᵀv for J = ∂h/∂w at `params`, h = −u the method's update field on `batch`.

    A multi-stage method (AltGD, WGAN with n_d > 1) has no single field; as in the dense analysis, J is then
    (∂F_h/∂w − I)/h for the update operator F_h of plain steps of size `step_size` through its stages, so that
    its eigenvalues compare with a field's. A lazily regularised method (every = k) is analysed through its
    field averaged over the k-iteration cycle, the exact method's (`lazy.cycle_average`).

    preconditioner: the diagonal D of the linearised optimizer step (optimizer_step.Preconditioner.diagonal, n
    entries in `jacobian.flatten`'s order); J is then D·∂h/∂w, defined for single-stage methods only."""

    def __init__(self, method: base.Method, game: Game, batch: Dict[str, tf.Tensor],
                 params: Optional[Players] = None, state: Optional[Players] = None,
                 step_size: Optional[float] = None, preconditioner: Optional[np.ndarray] = None):
        method = lazy.cycle_average(method)
        if preconditioner is not None:
            from jare_tf.analysis import optimizer_step
            optimizer_step.check_method(method)
        stages = method.stages()
        self.params = game.params() if params is None else params
        self.state = game.state() if state is None else state
        self.w = jacobian.flatten(self.params)
        self.n = int(self.w.shape[0])
        self.dtype = self.w.dtype
        self.matvecs = 0
        if len(stages) == 1 and stages[0].repeats == 1 and set(stages[0].players) == {"g", "d"}:
            field = jacobian._field(method, game, self.params, self.state, batch, stages[0])
        elif step_size is None:
            raise ValueError(f"--method={method.name} updates in stages {stages}: its operator is that of plain "
                             f"steps through the stages, which needs their step size.")
        else:
            operator = jacobian.update_operator(method, game, batch, step_size, self.params, self.state)

            def field(w):
                return (operator(w) - w) / base.scalar(step_size, w.dtype)   # exact h, not rounded via float32
        if preconditioner is not None:
            if np.shape(preconditioner) != (self.n,):
                raise ValueError(f"The preconditioner has shape {np.shape(preconditioner)}; the game has {self.n} "
                                 f"parameters.")
            diagonal, unpreconditioned = tf.constant(np.asarray(preconditioner), self.dtype), field

            def field(w):
                return diagonal * unpreconditioned(w)

        @tf.function(reduce_retracing=True)
        def jvp(v):
            with tf.autodiff.ForwardAccumulator(self.w, v) as acc:
                y = field(self.w)
            return acc.jvp(y, unconnected_gradients=tf.UnconnectedGradients.ZERO)

        @tf.function(reduce_retracing=True)
        def vjp(v):
            with tf.GradientTape() as tape:
                tape.watch(self.w)
                y = field(self.w)
            return tape.gradient(y, self.w, output_gradients=v,
                                 unconnected_gradients=tf.UnconnectedGradients.ZERO)

        @tf.function(reduce_retracing=True)
        def jvps(vs):
            return tf.map_fn(jvp.python_function, vs, parallel_iterations=16)

        self._jvp, self._vjp, self._jvps = jvp, vjp, jvps

    def dense(self, chunk: int = 256) -> np.ndarray:
        """J as an n × n float64 matrix from its action on the unit vectors, for checking the Krylov values on
        games of a few thousand parameters: `chunk` columns per call, as a graph loop over the JVP (tf.map_fn;
        one trace, the last chunk padded to the same shape). On mog_numerics' 2,003 parameters this takes about
        7 s for SimGD and 15 s for JARE on 2 CPU cores, tracing included (a vectorised map traced 3× longer)."""
        eye = np.eye(self.n)
        columns = []
        for start in range(0, self.n, chunk):
            block = np.zeros((chunk, self.n))
            part = eye[start:start + chunk]
            block[:len(part)] = part
            columns.append(self._jvps(tf.constant(block, self.dtype)).numpy()[:len(part)])
        self.matvecs += self.n
        return np.concatenate(columns, axis=0).T.astype(np.float64)     # eigensolvers then run in float64

    def matvec(self, v: np.ndarray) -> np.ndarray:
        self.matvecs += 1
        return self._jvp(tf.constant(np.real(v), self.dtype)).numpy() + (
            1j * self._jvp(tf.constant(np.imag(v), self.dtype)).numpy() if np.iscomplexobj(v) else 0.0)

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        self.matvecs += 1
        return self._vjp(tf.constant(np.real(v), self.dtype)).numpy() + (
            1j * self._vjp(tf.constant(np.imag(v), self.dtype)).numpy() if np.iscomplexobj(v) else 0.0)


@dataclasses.dataclass
class KrylovSpectrum:
    eigenvalues: np.ndarray       # complex, the k Ritz values asked for
    residuals: np.ndarray         # ‖Jx − λx‖ / ‖x‖ of each
    converged: np.ndarray         # bool: residual ≤ converged_below(dtype) · max(1, max|λ|)
    zeta: float                   # phase factor over the converged ones
    eta_max: float                # largest stable step of w ← w + ηh over the converged ones
    matvecs: int
    seconds: float

    def to_json(self) -> Dict[str, object]:
        def finite(x):
            return None if not np.isfinite(x) else float(x)
        return {"eigenvalues": [[float(z.real), float(z.imag)] for z in self.eigenvalues],
                "residuals": [float(r) for r in self.residuals], "converged": [bool(c) for c in self.converged],
                "zeta": finite(self.zeta), "eta_max": finite(self.eta_max), "matvecs": self.matvecs,
                "seconds": self.seconds}


def eigenvalues(op: AppliedUpdate, k: int = 20, which: str = "magnitude", tol: Optional[float] = None,
                maxiter: Optional[int] = None, seed: int = 0) -> KrylovSpectrum:
    """The k eigenvalues of J of largest magnitude or largest imaginary part, by implicitly restarted Arnoldi.

    ARPACK needs k < n − 1; for smaller games (the Dirac-GAN's n = 2) the operator is applied to the n unit
    vectors and the eigenvalues are those of the matrix they give (still through the same operator)."""
    from scipy.sparse import linalg
    if which not in WHICH:
        raise ValueError(f"--which={which!r}: choose one of {', '.join(WHICH)}.")
    if k < 1:
        raise ValueError(f"--k must be >= 1, got {k}.")
    t0, start = time.perf_counter(), op.matvecs
    n = op.n
    if k >= n - 1:
        matrix = np.stack([op.matvec(e) for e in np.eye(n)], axis=1)
        values, vectors = np.linalg.eig(matrix)
        best = order(values, which)[:k]
        values, vectors = values[best], vectors[:, best]
    else:
        operator = linalg.LinearOperator((n, n), matvec=op.matvec, rmatvec=op.rmatvec, dtype=np.float64)
        v0 = np.random.default_rng(seed).standard_normal(n)
        if tol is None:
            eps = np.finfo(np.dtype(op.dtype.as_numpy_dtype)).eps
            tol = 0.0 if eps < 1e-12 else 10 * eps
        try:
            values, vectors = linalg.eigs(operator, k=k, which=WHICH[which], tol=tol, maxiter=maxiter, v0=v0)
        except linalg.ArpackNoConvergence as e:      # the Ritz pairs it has: their residuals say which converged
            values, vectors = e.eigenvalues, e.eigenvectors
        best = order(values, which)                 # ARPACK returns them in no particular order
        values, vectors = values[best], vectors[:, best]
    residuals = np.array([np.linalg.norm(op.matvec(x) - lam * x) / np.linalg.norm(x)
                          for lam, x in zip(values, vectors.T)])
    scale = max(1.0, float(np.max(np.abs(values)))) if len(values) else 1.0
    converged = residuals <= converged_below(op.dtype.as_numpy_dtype) * scale
    good = values[converged]
    return KrylovSpectrum(values, residuals, converged, spectrum.phase_factor(good),
                          spectrum.max_step_size(good), op.matvecs - start, time.perf_counter() - t0)


def top(values: np.ndarray, k: int, which: str = "magnitude") -> List[complex]:
    """The k of `values` a Krylov run with `which` targets (for comparisons with a dense spectrum)."""
    values = np.asarray(values)
    return list(values[order(values, which)[:k]])


def training_summary(method: base.Method, game: Game, batch: Dict[str, tf.Tensor], k: int,
                     step_size: Optional[float] = None, operator: str = "field", optimizers=None):
    """What the trainers log every `spectrum_every` steps: ({"spectrum/max_abs", "spectrum/zeta",
    "spectrum/eta_max", "spectrum/converged", "spectrum/matvecs"}, the KrylovSpectrum) for the top k by
    magnitude, the first three over the converged Ritz values. step_size: the plain step of a multi-stage
    method's update operator (the trainers pass the discriminator's learning rate, as the dense analysis does).
    operator="optimizer" (config spectrum_operator) analyses the linearised step of `optimizers` (a Players of
    the run's optimizers) instead, M = D·J (optimizer_step.py), and adds "spectrum/eta_max_momentum" where the
    optimizers have momentum."""
    from jare_tf.analysis import optimizer_step
    optimizer_step.check_operator(operator, "--config.spectrum_operator")
    pre = None
    if operator == "optimizer":
        pre = optimizer_step.preconditioner(optimizers, game, method, "--config.spectrum_operator=optimizer")
    result = eigenvalues(AppliedUpdate(method, game, batch, step_size=step_size,
                                       preconditioner=None if pre is None else pre.diagonal), k=k)
    good = result.eigenvalues[result.converged]
    scalars = {"spectrum/max_abs": float(np.abs(good).max()) if len(good) else float("nan"),
               "spectrum/zeta": result.zeta, "spectrum/eta_max": result.eta_max,
               "spectrum/converged": float(result.converged.sum()), "spectrum/matvecs": float(result.matvecs)}
    if pre is not None and pre.momentum:
        scalars["spectrum/eta_max_momentum"] = optimizer_step.momentum_step_bound(good, pre.momentum, pre.gain)
    return scalars, result
