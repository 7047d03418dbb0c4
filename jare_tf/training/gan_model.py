"""The GAN as a keras.Model whose train_step delegates to a Method (DESIGN.md "Interfaces"; the keras-io pattern
of overriding train_step, with the algorithm kept out of it).

One `train_step` is one iteration of the method: the Updater applies each stage's directions with each player's
own optimizer. The input pipeline delivers, per step, `Updater.batches_per_step()` minibatches stacked on a
leading axis (AltGD's stages each see a fresh one), each with "real" and "z". The method's own inputs
(`Method.sample_inputs`: WGAN-GP's α, instance noise; `Method.iteration_inputs`: lazy regularisation's iteration
number) may come with them, as the package's trainers deliver them; on one device, those a minibatch lacks are
drawn here from (seed, iteration, k), so a pipeline of {"real", "z"} trains every method. Under tf.distribute
each replica receives its slice of the global batch (`distribute.per_replica_dataset`), and the method's inputs
must come from the pipeline, drawn for the global batch (a replica drawing its own would repeat its
neighbours' noise); so the step is a pure function of the checkpointed state and the step number on any number
of replicas.
"""

import keras
import tensorflow as tf

from jare_tf.data.synthetic import step_seed
from jare_tf.games.game import Game, Players
from jare_tf.methods import base
from jare_tf.training import distribute
from jare_tf.training.updater import NON_FINITE, Updater

#: What every minibatch holds: real samples and latents, each with the example axis first.
BATCH_KEYS = ("real", "z")


class GANModel(keras.Model):
    def __init__(self, game: Game, method: base.Method, optimizers: Players,
                 reducer: base.VectorReducer = base.LOCAL, seed: int = 0):
        """`seed` keys the method's own inputs that a minibatch lacks (drawn per iteration and minibatch)."""
        super().__init__(name="gan")
        self.game, self.method, self.seed = game, method, seed
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

    def check_inputs(self, element_spec) -> None:
        """Refuse, before anything is traced, a dataset whose elements lack "real" or "z", or, under several
        replicas, the method's own inputs (which cannot be drawn per replica: the module docstring)."""
        keys = sorted(element_spec) if isinstance(element_spec, dict) else None
        missing = [key for key in BATCH_KEYS if keys is None or key not in keys]
        if missing:
            raise ValueError(f"GANModel.fit: the dataset's elements lack {missing}; each element is a dict with "
                             f"{list(BATCH_KEYS)}, each [K, B, ...] for the K = {self.updater.batches_per_step()} "
                             f"minibatches of an iteration (got {keys if keys is not None else element_spec}).")
        replicas = self.distribute_strategy.num_replicas_in_sync
        if replicas == 1:
            return
        probe = {key: tf.zeros([d or 1 for d in spec.shape[1:]], spec.dtype) for key, spec in element_spec.items()}
        own = dict(self.method.sample_inputs(probe, tf.constant([0, 0], tf.int32)),
                   **self.method.iteration_inputs(probe, 0))
        lacking = sorted(key for key in own if key not in keys)
        if lacking:
            raise ValueError(
                f"GANModel.fit: --method={self.method.name} needs {lacking} in every minibatch, and under "
                f"{replicas} replicas they must be drawn for the global batch in the input pipeline: map each "
                f"global minibatch b of iteration `step` to dict(b, **method.sample_inputs(b, seed), "
                f"**method.iteration_inputs(b, step)) before distributing it (as "
                f"jare_tf.training.image_trainer.with_method_inputs does).")

    def train_step(self, data):
        scalars = self.updater.step(lambda k: self.method_inputs({key: value[k] for key, value in data.items()}, k))
        self.iteration.assign_add(1)
        return scalars

    def method_inputs(self, batch, k: int):
        """`batch` (the k-th minibatch of this iteration) with the method's own inputs it lacks, drawn from
        (seed, iteration, k); on several replicas they must come from the pipeline (the module docstring)."""
        own = dict(self.method.sample_inputs(batch, step_seed(self.seed, self.iteration, k)),
                   **self.method.iteration_inputs(batch, self.iteration))
        missing = sorted(key for key in own if key not in batch)
        if missing and distribute.num_replicas() > 1:     # a pipeline `fit` did not see (check_inputs)
            raise ValueError(f"GANModel: --method={self.method.name} needs {missing} in every minibatch; under "
                             f"several replicas the input pipeline must supply them (GANModel.check_inputs).")
        return dict(batch, **{key: own[key] for key in missing})

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: the players and optimizers are built at construction. (Keras' version draws a batch
        and all-reduces it to build symbolically, which fails for dict batches under MultiWorkerMirroredStrategy.)"""

    def fit(self, x=None, *, steps_per_epoch: int, epochs: int = 1, **kwargs):
        """keras.Model.fit for `steps_per_epoch` iterations (one epoch); the step counter decides how many steps
        each call of the train function runs."""
        if epochs != 1 or steps_per_epoch is None or steps_per_epoch < 1:
            raise ValueError(f"GANModel.fit trains one epoch of steps_per_epoch >= 1 iterations; got "
                             f"epochs={epochs}, steps_per_epoch={steps_per_epoch}.")
        if isinstance(x, tf.data.Dataset):
            self.check_inputs(x.element_spec)
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
