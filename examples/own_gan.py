r"""Your own Keras GAN with any jare_tf method: the Python API for researchers who bring their models.

    python examples/own_gan.py --method=jare --gamma=1 --steps=1500 --workdir=/tmp/own_gan

The game here is small on purpose (2-D data from N([2, -1], 0.25²I), an MLP generator and discriminator), but
nothing below depends on it: any `keras.Model` generator (z → x) and discriminator (x → one logit per example)
works, images included. Two ways to train:

1. `fit`: `jare_tf.training.gan_model.GANModel` is a `keras.Model` whose `train_step` is one iteration of the
   method. Give it a `tf.data` pipeline of dicts {"real": [K, B, ...], "z": [K, B, z_dim]} — K =
   `model.updater.batches_per_step()` minibatches per iteration (1, or more for AltGD's stages) — and call
   `compile`/`fit` as for any Keras model; `model.checkpoint()` is a `tf.train.Checkpoint` of the models, both
   optimizers and the iteration, and any Keras callback sees the method's losses, gradient norms and
   regulariser values in its logs (here they go to TensorBoard).
2. A hand-written loop: `method.directions(game, params, state, batch)` returns each player's update direction
   (w ← w − η·u for a plain gradient step), which your own optimizers apply.
"""

import argparse
import os
from typing import Dict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from jare_tf import methods  # noqa: E402
from jare_tf.games import Game, Players  # noqa: E402
from jare_tf.training.gan_model import GANModel  # noqa: E402

Z_DIM, BATCH = 4, 64
MEAN, STD = np.array([2.0, -1.0], np.float32), 0.25


def my_models(seed: int = 0):
    """Any Keras models: the generator maps z to a sample, the discriminator a sample to one logit."""
    keras.utils.set_random_seed(seed)
    generator = keras.Sequential([keras.Input((Z_DIM,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(2)], name="generator")
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(32, activation="relu"),
                                      keras.layers.Dense(1)], name="discriminator")
    return generator, discriminator


def minibatch(step: tf.Tensor, k: int = 0) -> Dict[str, tf.Tensor]:
    """Real samples and latents of one minibatch, a function of the step (so a resumed run sees the same data)."""
    seed = tf.stack([tf.cast(step, tf.int32), k])
    real = MEAN + STD * tf.random.stateless_normal([BATCH, 2], seed)
    return {"real": real, "z": tf.random.stateless_normal([BATCH, Z_DIM], seed + 7919)}


class TensorBoardScalars(keras.callbacks.Callback):
    """The method's logged values (losses, gradient norms, regulariser values) as TensorBoard scalars."""

    def __init__(self, model: GANModel, logdir: str):
        super().__init__()
        self.gan, self.writer = model, tf.summary.create_file_writer(logdir)

    def on_train_batch_end(self, batch, logs=None):
        with self.writer.as_default(step=int(self.gan.iteration.numpy())):
            for key, value in (logs or {}).items():
                tf.summary.scalar(key, float(value))


def train_with_fit(method_name: str, gamma: float, steps: int, workdir: str) -> np.ndarray:
    """Way 1: compile/fit, with checkpoints (resumes from the latest) and TensorBoard. Returns E[G(z)]."""
    generator, discriminator = my_models()
    game = Game(generator, discriminator, family="vanilla", generator_loss="non_saturating")
    method = methods.get(method_name, gamma=gamma)
    model = GANModel(game, method, Players(keras.optimizers.Adam(1e-3, beta_1=0.5),
                                           keras.optimizers.Adam(1e-3, beta_1=0.5)))
    model.compile(optimizer=None, steps_per_execution=50)
    manager = tf.train.CheckpointManager(model.checkpoint(), os.path.join(workdir, "checkpoints"), max_to_keep=2)
    manager.restore_or_initialize()
    start = int(model.iteration.numpy())
    k = model.updater.batches_per_step()

    def step_inputs(step):   # K minibatches stacked on a leading axis, and the method's own random inputs
        batches = [dict(b, **method.sample_inputs(b, tf.stack([tf.cast(step, tf.int32), 1 + i])))
                   for i, b in enumerate(minibatch(step, i) for i in range(k))]
        return {key: tf.stack([b[key] for b in batches]) for key in batches[0]}

    if start < steps:
        data = tf.data.Dataset.range(start, steps).map(step_inputs)
        model.fit(data, steps_per_epoch=steps - start, verbose=0,
                  callbacks=[TensorBoardScalars(model, os.path.join(workdir, "train"))])
        manager.save(checkpoint_number=int(model.iteration.numpy()))
    return generator(tf.random.normal([4096, Z_DIM], seed=1)).numpy().mean(axis=0)


def train_by_hand(method_name: str, gamma: float, steps: int) -> np.ndarray:
    """Way 2: a hand-written loop around `Method.directions` (single-stage methods, plain SGD here)."""
    generator, discriminator = my_models()
    game = Game(generator, discriminator, family="vanilla", generator_loss="non_saturating")
    method = methods.get(method_name, gamma=gamma)
    if len(method.stages()) != 1 or method.stages()[0].repeats != 1:
        raise ValueError(f"{method_name} has several stages; train it with GANModel (way 1).")
    g_opt, d_opt = keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05)

    @tf.function
    def step(i):
        batch = minibatch(i)
        directions = method.directions(game, game.params(), game.state(), batch)
        g_opt.apply_gradients(zip(directions.updates.g, game.variables().g))
        d_opt.apply_gradients(zip(directions.updates.d, game.variables().d))
        return directions.scalars

    for i in range(steps):
        step(tf.constant(i, tf.int64))
    return generator(tf.random.normal([4096, Z_DIM], seed=1)).numpy().mean(axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", default="jare", choices=methods.names())
    parser.add_argument("--gamma", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--workdir", default="/tmp/own_gan")
    args = parser.parse_args()
    fitted = train_with_fit(args.method, args.gamma, args.steps, args.workdir)
    print(f"fit:  E[G(z)] = {np.round(fitted, 3)}, data mean {MEAN}; TensorBoard: tensorboard --logdir "
          f"{args.workdir}")
    if args.method not in ("altgd",):
        by_hand = train_by_hand(args.method, args.gamma, args.steps)
        print(f"hand-written loop: E[G(z)] = {np.round(by_hand, 3)}")


if __name__ == "__main__":
    main()
