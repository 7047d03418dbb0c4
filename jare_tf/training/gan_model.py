"""The GAN as a keras.Model whose train_step delegates to a Method (DESIGN.md "Interfaces"; the keras-io pattern
of overriding train_step, with the algorithm kept out of it).

One `train_step` is one iteration of the method: the Updater applies each stage's directions with each player's
own optimizer. The input pipeline delivers, per step, `Updater.batches_per_step()` minibatches stacked on a
leading axis (AltGD's stages each see a fresh one); the method's own randomness is keyed by (seed, iteration), so
the step is a pure function of the checkpointed state and the step number.
"""

import keras
import tensorflow as tf

from jare_tf.data.synthetic import step_seed
from jare_tf.games.game import Game, Players
from jare_tf.methods import base
from jare_tf.training.updater import Updater


class GANModel(keras.Model):
    def __init__(self, game: Game, method: base.Method, optimizers: Players, seed: int,
                 reducer: base.VectorReducer = base.LOCAL):
        super().__init__(name="gan")
        self.game, self.method, self.seed = game, method, int(seed)
        self.generator, self.discriminator = game.generator, game.discriminator
        self.g_optimizer, self.d_optimizer = optimizers
        self.updater = Updater(method, game, optimizers, reducer)
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")

    def call(self, z, training=False):
        return self.generator(z, training=True)

    def train_step(self, data):
        step = self.iteration.read_value()

        def minibatch(k):
            batch = {"real": data["real"][k], "z": data["z"][k]}
            batch.update(self.method.sample_inputs(batch, step_seed(self.seed + 2, step, k)))
            return batch

        scalars = self.updater.step(minibatch)
        self.iteration.assign_add(1)
        return scalars

    def checkpoint(self) -> tf.train.Checkpoint:
        """Models, both optimizers and the iteration (all randomness is a function of seed and iteration)."""
        return tf.train.Checkpoint(generator=self.generator, discriminator=self.discriminator,
                                   g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                                   iteration=self.iteration)
