"""The Jacobian of the update that a Method applies, by automatic differentiation through the Method itself.

The paper writes training as w ← w + η·h(w) with w = (φ, θ) (generator first) and studies the Jacobian
A = ∂h/∂w at an equilibrium (eq. 5–6, Sec. 5.1). Here h = −u, where u are exactly the directions
`Method.directions` returns to the trainer, so the analysis and training cannot drift apart. For methods whose
iteration is more than one simultaneous step (AltGD's stages, WGAN's clipping) the object of study is the
discrete update operator F_h(w) (Mescheder et al. 2018, Lemmas 2.4/2.5): plain gradient steps of size h through
every stage, each followed by the projection; the iteration converges locally when the spectral radius of
∂F_h/∂w is below 1. Its Jacobian is I + h·A for a single-stage method.

Jacobians are dense, so they are only formed for games with at most `MAX_DENSE_PARAMETERS` parameters.
"""

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from jare_tf.games.game import Game, Players
from jare_tf.methods import base

MAX_DENSE_PARAMETERS = 4096


def flatten(players: Players) -> tf.Tensor:
    """Concatenate (φ, θ) into one vector, generator first."""
    return tf.concat([tf.reshape(t, [-1]) for t in list(players.g) + list(players.d)], axis=0)


def unflatten(w: tf.Tensor, like: Players) -> Players:
    out, start = [], 0
    for group in like:
        tensors = []
        for t in group:
            size = int(np.prod(t.shape))
            tensors.append(tf.reshape(w[start:start + size], t.shape))
            start += size
        out.append(tensors)
    return Players(*out)


def _check_size(params: Players) -> int:
    n = sum(int(np.prod(t.shape)) for group in params for t in group)
    if n > MAX_DENSE_PARAMETERS:
        raise ValueError(f"The game has {n} parameters; dense Jacobians are limited to {MAX_DENSE_PARAMETERS}. "
                         f"Use a smaller game or Jacobian-vector products.")
    return n


def _dense_jacobian(fn, w: tf.Tensor) -> np.ndarray:
    ctx = tf.distribute.get_replica_context()
    if tf.distribute.in_cross_replica_context() or (ctx is not None and ctx.num_replicas_in_sync > 1):
        # Under several replicas the regulariser vectors are stop_gradient(all-reduce(g)), which would silently
        # drop the JᵀJ terms of the Jacobian.
        raise RuntimeError("Jacobians are computed on one device; call the analysis outside tf.distribute.")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(w)
        y = fn(w)
    eye = tf.eye(int(y.shape[0]), dtype=y.dtype)
    rows = [tape.gradient(y, w, output_gradients=eye[i], unconnected_gradients=tf.UnconnectedGradients.ZERO)
            for i in range(int(y.shape[0]))]
    del tape
    return tf.stack(rows).numpy()


def _field(method: base.Method, game: Game, like: Players, state: Players, batch: Dict[str, tf.Tensor],
           stage: base.Stage):
    def h(w):
        d = method.directions(game, unflatten(w, like), state, batch, stage)
        return -flatten(d.updates)
    return h


def vector_field_jacobian(method: base.Method, game: Game, batch: Dict[str, tf.Tensor],
                          params: Optional[Players] = None, state: Optional[Players] = None) -> np.ndarray:
    """A = ∂h/∂w at `params` (default: the game's current parameters) for a single-stage method, h = −u."""
    stages = method.stages()
    if len(stages) != 1 or stages[0].repeats != 1 or set(stages[0].players) != {"g", "d"}:
        raise ValueError(f"--method={method.name} updates in stages {stages}; use update_operator_jacobian.")
    params = game.params() if params is None else params
    state = game.state() if state is None else state
    _check_size(params)
    return _dense_jacobian(_field(method, game, params, state, batch, stages[0]), flatten(params))


def update_operator_jacobian(method: base.Method, game: Game, batch: Dict[str, tf.Tensor], step_size: float,
                             params: Optional[Players] = None, state: Optional[Players] = None,
                             iterations: Sequence[int] = ()) -> np.ndarray:
    """∂F_h/∂w: plain gradient steps of size h through every stage of the method, each step followed by the
    method's projection (as the Updater applies it).

    iterations: when given, the operator is the composition of one such iteration per number t in order, each
    with the inputs the trainer gives iteration t (`Method.iteration_inputs`). For a lazy method with every = k,
    t = 1, …, k is F = F_reg ∘ F_plainᵏ⁻¹ (k − 1 plain iterations, then the one with weight k·γ): the
    k-iteration operator whose spectral radius ρ decides local convergence, at the rate ρ^(1/k) per iteration
    (`lazy_operator_jacobian`)."""
    params = game.params() if params is None else params
    state = game.state() if state is None else state
    _check_size(params)
    return _dense_jacobian(update_operator(method, game, batch, step_size, params, state, iterations),
                           flatten(params))


def update_operator(method: base.Method, game: Game, batch: Dict[str, tf.Tensor], step_size: float,
                    like: Players, state: Players, iterations: Sequence[int] = ()):
    """w ↦ F_h(w) (flattened), the operator `update_operator_jacobian` differentiates; `like` gives the shapes."""
    batches = [dict(batch, **method.iteration_inputs(batch, t)) for t in iterations] or [batch]

    def operator(w):
        p = unflatten(w, like)
        for b in batches:
            for stage in method.stages():
                for _ in range(stage.repeats):
                    u = method.directions(game, p, state, b, stage).updates
                    p = method.project(Players(*[q if ui is None else base.axpy(-step_size, ui, q)
                                                 for q, ui in zip(p, u)]))
        return flatten(p)

    return operator


def lazy_operator_jacobian(method: base.Method, game: Game, batch: Dict[str, tf.Tensor], step_size: float,
                           params: Optional[Players] = None, state: Optional[Players] = None) -> np.ndarray:
    """∂F/∂w of the k-iteration operator F = F_reg ∘ F_plainᵏ⁻¹ of a lazy method (k = method.every; plain steps
    of size η = step_size), through the method's own directions. k = 1 is F_h."""
    every = getattr(method, "every", 1)
    return update_operator_jacobian(method, game, batch, step_size, params, state, iterations=range(1, every + 1))
