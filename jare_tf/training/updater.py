"""Applies a Method's directions to the players' variables: one training iteration.

For each stage of `Method.stages()`, repeated as the stage says, the updater draws the stage's minibatch, asks
the method for the directions of the moving players (a pure function of the current parameters), lets each
moving player's own optimizer apply them, writes back the layer state of the main forward pass, and applies the
method's projection. Under R > 1 replicas (tf.distribute) each replica's directions are scaled by 1/R before
its optimizer sums them over the replicas (what Keras' optimizers do in a replica context), so the applied
direction is the replicas' mean: the direction of the global batch. Layer state and projections are written
through `distribute.assign_replicated`. Single-stage methods therefore use one minibatch for every term of the simultaneous update;
AltGD's stages each see a fresh minibatch and the other player's updated parameters, as the reference code does.
The updater holds no algorithm of its own: that is the Method's.
"""

from typing import Callable, Dict

import tensorflow as tf

from jare_tf.games.game import Game, Players
from jare_tf.methods import base
from jare_tf.training import distribute

#: Prefix of the error a non-finite training quantity raises (`non_finite_quantity` reads the name back).
NON_FINITE = "non-finite training quantity:"


def non_finite_quantity(error: Exception):
    """The quantity named by the NaN/Inf guard in `error`, or None if the error is something else."""
    text = str(error)
    if NON_FINITE not in text:
        return None
    return text.split(NON_FINITE, 1)[1].split(":")[0].split("\n")[0].strip()


class Updater:
    def __init__(self, method: base.Method, game: Game, optimizers: Players,
                 reducer: base.VectorReducer = base.LOCAL):
        method.check_game(game)
        self.method, self.game, self.optimizers, self.reducer = method, game, optimizers, reducer
        # Build the optimizers' slots now, eagerly, rather than inside a traced loop.
        for optimizer, variables in zip(optimizers, game.variables()):
            optimizer.build(variables)
        self._projects = type(method).project is not base.Method.project

    def step(self, next_batch: Callable[[int], Dict[str, tf.Tensor]]) -> Dict[str, tf.Tensor]:
        """One iteration. next_batch(k) returns the k-th minibatch of this iteration (k = 0, 1, …), including
        the method's inputs. Returns the scalars of the last stage execution of each player (losses, gradient
        norms, regulariser values, and the norm of each player's direction), all checked to be finite."""
        scalars: Dict[str, tf.Tensor] = {}
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
                # NaN/Inf guard: a non-finite loss, gradient norm, regulariser or direction stops training here,
                # before any optimizer applies it; the error message names the quantity.
                checked = {k: tf.debugging.check_numerics(v, f"{NON_FINITE} {k}") for k, v in checked.items()}
                for player in stage.players:
                    index = "gd".index(player)
                    update = d.updates[index]
                    if replicas > 1:     # the optimizer sums over replicas: apply the mean
                        update = [u / tf.cast(replicas, u.dtype) for u in update]
                    self.optimizers[index].apply(update, variables[index])
                distribute.assign_replicated(self.game.state_variables(), list(d.state.g) + list(d.state.d))
                if self._projects:
                    projected = self.method.project(self.game.params())
                    distribute.assign_replicated(list(variables.g) + list(variables.d),
                                                 list(projected.g) + list(projected.d))
                scalars.update(checked)
        return scalars

    def batches_per_step(self) -> int:
        return sum(stage.repeats for stage in self.method.stages())
