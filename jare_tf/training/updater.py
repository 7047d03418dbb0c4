"""Applies a Method's directions to the players' variables: one training iteration.

For each stage of `Method.stages()`, repeated as the stage says, the updater draws the stage's minibatch, asks
the method for the directions of the moving players (a pure function of the current parameters), lets each
moving player's own optimizer apply them, writes back the layer state of the main forward pass, and applies the
method's projection. Under R > 1 replicas (tf.distribute) each replica's directions are scaled by 1/R before
its optimizer sums them over the replicas (what Keras' optimizers do in a replica context), so the applied
direction is the replicas' mean: the direction of the global batch. Layer state and projections are written
through `distribute.assign_replicated`. Single-stage methods therefore use one minibatch for every term of the
simultaneous update; AltGD's stages each see a fresh minibatch and the other player's updated parameters, as the
reference code does. The updater holds no algorithm of its own: that is the Method's.

NaN/Inf guard: every loss, gradient norm, regulariser value and direction norm is checked with plain tensor ops
(tf.debugging.check_numerics is compiled away by XLA, which TPUs and Keras' automatic jit use). The step's
scalars carry `NON_FINITE`: 0 when all were finite, else 1 + the position in `quantity_names` of the first one
that was not (the same on every replica). The trainers stop right after a flagged step and name the quantity;
nothing from that step on is ever saved.
"""

from typing import Callable, Dict, Optional

import tensorflow as tf

from jare_tf.games.game import Game, Players
from jare_tf.methods import base
from jare_tf.training import distribute

#: Key of the step's scalars that flags a non-finite quantity (see the module docstring).
NON_FINITE = "non_finite"


class Updater:
    def __init__(self, method: base.Method, game: Game, optimizers: Players,
                 reducer: base.VectorReducer = base.LOCAL):
        method.check_game(game)
        self.method, self.game, self.optimizers, self.reducer = method, game, optimizers, reducer
        # Build the optimizers' slots now, eagerly, rather than inside a traced loop.
        for optimizer, variables in zip(optimizers, game.variables()):
            optimizer.build(variables)
        self._projects = type(method).project is not base.Method.project
        #: Names of the checked quantities, in the order NON_FINITE counts them (filled in when `step` traces).
        self.quantity_names = []

    def step(self, next_batch: Callable[[int], Dict[str, tf.Tensor]]) -> Dict[str, tf.Tensor]:
        """One iteration. next_batch(k) returns the k-th minibatch of this iteration (k = 0, 1, …), including
        the method's inputs. Returns the scalars of the last stage execution of each player (losses, gradient
        norms, regulariser values, and the norm of each player's direction) and the NON_FINITE flag."""
        scalars: Dict[str, tf.Tensor] = {}
        names = []
        first_bad = tf.constant(0.0)        # 1 + index into `names` of the first non-finite quantity, or 0
        variables = self.game.variables()
        k = 0
        replicas = distribute.num_replicas()
        for stage in self.method.stages():
            for _ in range(stage.repeats):
                batch = next_batch(k)
                k += 1
                d = self.method.directions(self.game, self.game.params(), self.game.state(), batch, stage,
                                           self.reducer)
                checked = dict(d.scalars)
                for player in stage.players:
                    checked[f"update_norm/{player}"] = base.global_norm(d.updates["gd".index(player)])
                first_bad = self._first_non_finite(first_bad, checked, names)
                for player in stage.players:
                    index = "gd".index(player)
                    update = d.updates[index]
                    if replicas > 1:     # the optimizer sums over replicas: apply the mean
                        update = [u / tf.cast(replicas, u.dtype) for u in update]
                    self.optimizers[index].apply(update, variables[index])
                distribute.assign_replicated(self.game.state_variables(), list(d.state.g) + list(d.state.d))
                if self._projects:    # write only what the projection changed, the same on every replica
                    params = self.game.params()
                    changed = [(var, new) for group in zip(variables, params, self.method.project(params))
                               for var, old, new in zip(*group) if new is not old]
                    distribute.assign_replicated([v for v, _ in changed], [x for _, x in changed], average=False)
                scalars.update(checked)
        self.quantity_names = names
        scalars[NON_FINITE] = first_bad
        return scalars

    def non_finite_name(self, flag) -> Optional[str]:
        """The quantity a NON_FINITE flag names, or None when the flag says all were finite."""
        index = int(round(float(flag)))
        return None if index == 0 else self.quantity_names[index - 1]

    @staticmethod
    def _first_non_finite(first_bad: tf.Tensor, checked: Dict[str, tf.Tensor], names) -> tf.Tensor:
        """Update the flag with this stage's quantities, agreed over replicas (a quantity counts as non-finite
        when it is on any replica)."""
        offset = len(names)
        names.extend(checked)
        bad = tf.stack([tf.cast(tf.logical_not(tf.reduce_all(tf.math.is_finite(v))), tf.float32)
                        for v in checked.values()])
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
        stage_bad = tf.where(tf.reduce_any(bad > 0),
                             tf.cast(tf.argmax(tf.cast(bad > 0, tf.int32)), tf.float32) + 1.0 + offset, 0.0)
        return tf.where(first_bad > 0, first_bad, stage_bad)

    def batches_per_step(self) -> int:
        return sum(stage.repeats for stage in self.method.stages())
