"""The GAN as a keras.Model whose train_step delegates to a Method (DESIGN.md "Interfaces"; the keras-io pattern
of overriding train_step, with the algorithm kept out of it).

One `train_step` is one iteration of the method: the Updater applies each stage's directions with each player's
own optimizer. The input pipeline delivers, per step, `Updater.batches_per_step()` minibatches stacked on a
leading axis (AltGD's stages each see a fresh one), together with the method's own random inputs
(`Method.sample_inputs`, keyed by seed and step). Under tf.distribute each replica receives its slice of that
global batch (`distribute.per_replica_dataset`), so the step is a pure function of the checkpointed state and
the step number on any number of replicas.
"""

import keras
import tensorflow as tf

from jare_tf.games.game import Game, Players
from jare_tf.methods import base
from jare_tf.training.updater import NON_FINITE, Updater


class GANModel(keras.Model):
    def __init__(self, game: Game, method: base.Method, optimizers: Players,
                 reducer: base.VectorReducer = base.LOCAL):
        super().__init__(name="gan")
        self.game, self.method = game, method
        self.generator, self.discriminator = game.generator, game.discriminator
        self.g_optimizer, self.d_optimizer = optimizers
        self.updater = Updater(method, game, optimizers, reducer)
        # Every replica advances it in step; the strategy keeps the first replica's increment.
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration",
                                     aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        # The step at which the current `fit` ends (not part of the checkpoint).
        self.stop_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="stop_step",
                                     aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.built = True    # the players are built; no symbolic call on a (distributed) batch is needed

    def call(self, z, training=False):
        return self.generator(z, training=True)

    def train_step(self, data):
        scalars = self.updater.step(lambda k: {key: value[k] for key, value in data.items()})
        self.iteration.assign_add(1)
        return scalars

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: the players and optimizers are built at construction. (Keras' version draws a batch
        and all-reduces it to build symbolically, which fails for dict batches under MultiWorkerMirroredStrategy.)"""

    def fit(self, x=None, *, steps_per_epoch: int, epochs: int = 1, **kwargs):
        """keras.Model.fit for `steps_per_epoch` iterations (one epoch); the step counter decides how many steps
        each call of the train function runs."""
        if epochs != 1 or steps_per_epoch is None or steps_per_epoch < 1:
            raise ValueError(f"GANModel.fit trains one epoch of steps_per_epoch >= 1 iterations; got "
                             f"epochs={epochs}, steps_per_epoch={steps_per_epoch}.")
        self.stop_step.assign(self.iteration + steps_per_epoch)
        return super().fit(x, steps_per_epoch=steps_per_epoch, epochs=1, **kwargs)

    def make_train_function(self, force=False):
        """`steps_per_execution` iterations per call: a counted loop around strategy.run, the pattern tf.distribute
        documents for custom loops, running min(steps_per_execution, stop_step − iteration) steps and stopping
        early after a step whose NON_FINITE flag is set (the callbacks then see that step's outputs).

        Keras' own multi-step loop carries distributed Optionals through a while loop, which fails under
        MirroredStrategy (Keras 3.15 on TensorFlow 2.21: "Placeholder ... while/cond" at run time).
        """
        if self.train_function is not None and not force:
            return self.train_function
        strategy, per_call = self.distribute_strategy, self.steps_per_execution

        def one_step(data):
            outputs = strategy.run(self.train_step, args=(data,))
            return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in outputs.items()}

        def steps(iterator):
            n = tf.minimum(tf.constant(per_call, tf.int64), self.stop_step - self.iteration)
            outputs = one_step(next(iterator))
            # The stop test lives in the loop condition: a tf.cond around strategy.run fails under
            # MirroredStrategy, as Keras' own loop does (see the docstring).
            _, outputs = tf.while_loop(lambda i, out: tf.logical_and(i < n, tf.equal(out[NON_FINITE], 0.0)),
                                       lambda i, out: (i + 1, one_step(next(iterator))),
                                       (tf.constant(1, tf.int64), outputs))
            return outputs

        if not self.run_eagerly:
            one_step = tf.function(one_step, jit_compile=self.jit_compile)
            steps = tf.function(steps)
        self.train_function = steps
        return steps

    def checkpoint(self) -> tf.train.Checkpoint:
        """Models, both optimizers and the iteration (all randomness is a function of seed and step)."""
        return tf.train.Checkpoint(generator=self.generator, discriminator=self.discriminator,
                                   g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                                   iteration=self.iteration)
