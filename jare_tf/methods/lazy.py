"""Lazy regularisation: the regulariser on one iteration in k, with k times its weight (option `every`).

Karras et al. 2020 (StyleGAN2, Sec. 4 and App. B) compute R1 once every 16 minibatches and multiply it by 16;
here every regularised method (jare, conopt, gen_only, disc_only, r1, r2, wgan_gp) takes `every=k`:

    iteration t ≡ 0 (mod k):   u = directions of the method with weight k·γ,
    otherwise:                 u = the plain first-order directions (g_φ, g_θ) of the same minibatch.

k = 1 is the method itself, through the same code (no branch, no extra input). For k > 1 the iteration number
t reaches the method as an input of the minibatch, like its other inputs: `iteration_inputs(batch, t)` puts
t (int32, one entry per example, so every replica's slice carries it) under the key ITERATION, and the
trainers fill it from their checkpointed step. A resumed run therefore regularises the same iterations as an
uninterrupted one, under any number of replicas, with no state kept in Python. The choice between the two
branches is a `tf.cond`, so a plain iteration costs a plain gradient step, and every replica takes the same
branch (the iteration is the same on all), so the regulariser's all-reduces stay matched.

On a plain iteration the regulariser's derivative is not taken. The gradient-norm methods (jare, conopt,
gen_only, disc_only) compute their first-order pass, the all-reduced vectors and the regulariser values on every
iteration and branch only around the second-order products, so their reg/... scalars are real on every
iteration and no all-reduce sits inside a branch; the penalties (r1, r2, wgan_gp) branch around the whole
direction, and their reg/d_penalty reads 0 on plain iterations.

StyleGAN2 also rescales Adam for the lazy generator/discriminator steps (β₁ → β₁^c, β₂ → β₂^c and lr → c·lr
with c = k/(k+1)), because it applies the regulariser as a separate optimizer step. Here the regulariser is part
of the one direction an iteration applies, so there is no separate step to compensate and this package leaves
the optimizer's hyperparameters as the setting gives them.

The local theory of the k-iteration operator F = F_reg ∘ F_plainᵏ⁻¹ is `jare_tf.analysis.jacobian.
lazy_operator_jacobian` (jare-spectrum --every=k).
"""

import copy
from typing import Callable, Dict, Optional

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base

#: The minibatch key holding the iteration number t (one int32 entry per example).
ITERATION = "iteration"


class LazyRegularised(base.Method):
    """A method u = g + γ·∇R whose regulariser may be applied every k-th iteration only (module docstring).

    Subclasses implement `regularised(..., gamma)`: their directions with weight `gamma`.
    """

    def __init__(self, gamma: float = 0.0, every: int = 1):
        super().__init__(gamma)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1 for method {self.name!r} (the regulariser is applied "
                             f"on one iteration in every), got {every!r}.")
        self.every = every

    def regularised(self, game, params, state, batch, stage, reducer, gamma: float) -> base.Directions:
        raise NotImplementedError

    def iteration_inputs(self, batch: Dict[str, tf.Tensor], iteration) -> Dict[str, tf.Tensor]:
        if self.every == 1:
            return {}
        n = tf.shape(batch["real"])[0]
        return {ITERATION: tf.fill([n], tf.cast(iteration, tf.int32))}

    def regularise_now(self, batch: Dict[str, tf.Tensor]) -> Optional[tf.Tensor]:
        """None for every = 1 (always regularised); otherwise whether this minibatch's iteration t ≡ 0 mod k."""
        if self.every == 1:
            return None
        if ITERATION not in batch:
            raise ValueError(f"{self.name} with every={self.every} needs the iteration number in its minibatch "
                             f"(batch[{ITERATION!r}], from Method.iteration_inputs); the trainers add it.")
        return tf.equal(tf.math.floormod(batch[ITERATION][0], self.every), 0)

    def directions(self, game, params, state, batch, stage=base.SIMULTANEOUS[0], reducer=base.LOCAL):
        when = self.regularise_now(batch)
        if when is None:
            return self.regularised(game, params, state, batch, stage, reducer, self.gamma)
        self.check_game(game)
        return self.lazy_directions(game, params, state, batch, stage, reducer, self.every * self.gamma, when)

    def lazy_directions(self, game, params, state, batch, stage, reducer, gamma, when) -> base.Directions:
        """The directions of iteration t: a tf.cond between the regularised and the plain directions. Methods
        whose regulariser all-reduces (the gradient-norm family) override it to keep those all-reduces out of
        the branches (gradient_norms.regulariser_gradients)."""
        return cond(when, lambda: self.regularised(game, params, state, batch, stage, reducer, gamma),
                    lambda: plain(game, params, state, batch, stage))


def cycle_average(method: base.Method) -> base.Method:
    """The method whose field is the average of a lazy method's fields over its cycle of k iterations: the exact
    method (every = 1, same γ), since u = g + γ·∇R is affine in γ and ((k − 1)·g + (g + kγ·∇R))/k = g + γ·∇R.
    (A multi-stage method, wgan_gp with n_d > 1, is analysed through its update operator, whose cycle average is
    the exact method's to first order in the step.) The spectra logged during training and `jare-spectrum --workdir` analyse it, so that they do not switch
    between the plain and the k·γ field with the step analysed; what lazy application changes beyond this is
    of order η, and is the k-iteration operator's (`jacobian.lazy_operator_jacobian`, jare-spectrum --every).
    Methods without `every`, and every = 1, are returned as they are."""
    if not isinstance(method, LazyRegularised) or method.every == 1:
        return method
    exact = copy.copy(method)
    exact.every = 1
    return exact


def check_replicas(method: base.Method, game, replicas: int) -> None:
    """Refuse lazy regularisation where a branch would hold an all-reduce: batch statistics synchronised across
    replicas (MirroredStrategy cannot merge_call inside a tf.cond). The trainers call it when they build a run."""
    if getattr(method, "every", 1) > 1 and replicas > 1 and game.syncs_across_replicas():
        raise ValueError(f"--method={method.name} with every={method.every} cannot run with sync_batch_norm=True "
                         f"over {replicas} replicas (the synchronised statistics would all-reduce inside the "
                         f"tf.cond that skips the regulariser); use sync_batch_norm=False or every=1.")


def plain(game, params, state, batch, stage) -> base.Directions:
    """The unregularised directions of the stage's players on this minibatch (SimGD's)."""
    fo = base.first_order(game, params, state, batch, players=stage.players)
    return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)


def cond(pred: tf.Tensor, regularised: Callable[[], base.Directions],
         unregularised: Callable[[], base.Directions]) -> base.Directions:
    """tf.cond over two Directions: the plain branch gets the regulariser's scalars as zeros, and players
    without a direction (None, in a stage that does not move them) stay None in both. Executing eagerly (the
    dense analysis), only the branch taken runs and its Directions are returned as they are."""
    if tf.executing_eagerly():
        return regularised() if bool(pred) else unregularised()
    template = {}

    def leaves_of(d: base.Directions):
        return tf.nest.flatten((d.updates, d.state, d.scalars))

    def true_fn():
        d = regularised()
        leaves = leaves_of(d)
        template.update(scalars={k: (v.shape, v.dtype) for k, v in d.scalars.items()},
                        none=[x is None for x in leaves], structure=(d.updates, d.state, d.scalars))
        return [x for x in leaves if x is not None]

    def false_fn():
        if not template:     # tf.cond traces the true branch first; it defines what both return
            raise RuntimeError("lazy.cond: the regularised branch was not traced first.")
        d = unregularised()
        scalars = {k: d.scalars[k] if k in d.scalars else tf.zeros(shape, dtype)
                   for k, (shape, dtype) in template["scalars"].items()}
        leaves = leaves_of(base.Directions(d.updates, d.state, scalars))
        if [x is None for x in leaves] != template["none"]:
            raise ValueError("The regularised and the plain directions of a lazy method move different players.")
        return [x for x in leaves if x is not None]

    out = iter(tf.cond(pred, true_fn, false_fn))
    leaves = [None if is_none else next(out) for is_none in template["none"]]
    updates, state, scalars = tf.nest.pack_sequence_as(template["structure"], leaves)
    return base.Directions(updates, state, scalars)
