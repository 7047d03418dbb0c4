"""A small CNN classifier of Fashion-MNIST, trained by the package once and cached, as the network behind IS, FID
and KID on Fashion-MNIST runs (`jare-eval --classifier=fashion_mnist`).

Inception is the wrong network for 28×28 grayscale clothes (and cannot be had offline); a classifier trained on
the domain itself is the usual replacement (e.g. the LeNet-based scores of MNIST GAN studies). The network takes
the 32×32×1 images of the Fashion-MNIST settings in [−1, 1] (the training data, padded with background):

    Conv(3, 1, 32) + ReLU → MaxPool 2 → Conv(3, 1, 64) + ReLU → MaxPool 2 → flatten 4096
    → Dropout 0.3 → Dense(128) + ReLU  ("pool": FID and KID features)  → Dropout 0.3 → Dense(10)  ("logits": IS)

It is trained with Adam (batch 128, lr 1e-3, 2e-4 in the last two of `EPOCHS` = 6 epochs) on the 60,000
training images, and its accuracy on the 10,000 test images is measured, printed and stored next to the
weights. The cache (`$JARE_TF_CACHE/classifiers/fashion_mnist`, default ~/.cache/jare_tf/…) holds
`weights.weights.h5` and `info.json` (test accuracy, sha256 of the weight values, training recipe); a cached
classifier whose weights no longer match their recorded sha256 is refused. Every score computed with it carries that sha256 and test accuracy.
"""

import json
import os
import time
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from jare_tf.evaluation.classifier import Classifier, ClassifierUnavailable, weights_sha256
from jare_tf.training.workdir import write_json

NAME = "fashion_mnist_cnn"
CLASSES = 10
FEATURES = 128
EPOCHS = 6
BATCH = 128
LEARNING_RATE = 1e-3
#: The learning rate of the last two epochs (a step decay: +0.5 % test accuracy for 80 s of training).
FINAL_LEARNING_RATE = 2e-4
SEED = 0
#: Below this test accuracy the trained classifier is refused (this network reaches ≈ 91–92 % in 6 epochs of
#: about 40 s each on two CPU cores).
MIN_TEST_ACCURACY = 0.90


def default_dir() -> str:
    return os.path.join(os.environ.get("JARE_TF_CACHE", os.path.expanduser("~/.cache/jare_tf")), "classifiers",
                        "fashion_mnist")


def build() -> keras.Model:
    """The network, with outputs {"logits": [N, 10], "pool": [N, 128]}."""
    x = inputs = keras.Input((32, 32, 1))
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{filters}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{filters}")(x)
    x = keras.layers.Dropout(0.3)(keras.layers.Flatten()(x))
    pool = keras.layers.Dense(FEATURES, activation="relu", name="features")(x)
    logits = keras.layers.Dense(CLASSES, name="logits")(keras.layers.Dropout(0.3)(pool))
    return keras.Model(inputs, {"logits": logits, "pool": pool}, name=NAME)


def recipe(epochs: int = EPOCHS) -> dict:
    """What makes the cached classifier what it is; a cache made with another recipe is retrained."""
    return {"name": NAME, "epochs": epochs, "batch_size": BATCH, "learning_rate": LEARNING_RATE,
            "final_learning_rate": FINAL_LEARNING_RATE, "seed": SEED}


def _unit(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) / 127.5 - 1.0


def train(data_dir: Optional[str], cache_dir: str, log: Callable[[str], None] = print,
          epochs: int = EPOCHS, max_train: Optional[int] = None,
          min_accuracy: float = MIN_TEST_ACCURACY) -> dict:
    """Train the classifier on the training split (its first `max_train` images: tests), measure it on the test
    split and cache it; returns info (which records the number of training images)."""
    from jare_tf.data import images
    x_train, y_train = images.load_split("fashion_mnist", 32, data_dir, with_labels=True)
    x_train, y_train = x_train[:max_train], y_train[:max_train]
    x_test, y_test = images.load_split("fashion_mnist", 32, data_dir, split="test", with_labels=True)
    keras.utils.set_random_seed(SEED)
    model = build()
    classify = keras.Model(model.input, model.output["logits"])
    classify.compile(keras.optimizers.Adam(LEARNING_RATE),
                     keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    log(f"Training the Fashion-MNIST classifier ({epochs} epochs on {len(x_train)} images; once, then cached in "
        f"{cache_dir}) ...")
    start = time.perf_counter()
    x_train = _unit(x_train)
    for epoch in range(epochs):
        if epoch == epochs - 2:
            classify.optimizer.learning_rate.assign(FINAL_LEARNING_RATE)
        # A fixed permutation per epoch (keras' shuffle would draw from global state).
        order = np.random.default_rng([SEED, epoch]).permutation(len(x_train))
        history = classify.fit(x_train[order], y_train[order], batch_size=BATCH, epochs=1, shuffle=False,
                               verbose=0)
        log(f"  epoch {epoch + 1}/{epochs}: training loss {history.history['loss'][0]:.4f}, accuracy "
            f"{history.history['accuracy'][0]:.4f} ({time.perf_counter() - start:.0f} s)")
    _, accuracy = classify.evaluate(_unit(x_test), y_test, batch_size=1000, verbose=0)
    log(f"Fashion-MNIST classifier: test accuracy {accuracy:.4f} on {len(x_test)} test images.")
    if accuracy < min_accuracy:
        raise ClassifierUnavailable(f"The Fashion-MNIST classifier reached only {accuracy:.4f} test accuracy (< "
                                    f"{min_accuracy}); it is not cached.")
    os.makedirs(cache_dir, exist_ok=True)
    weights = os.path.join(cache_dir, "weights.weights.h5")
    tmp = os.path.join(cache_dir, "weights.tmp.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, weights)
    info = {**recipe(epochs), "sha256": weights_sha256(model), "test_accuracy": float(accuracy),
            "n_test": int(len(x_test)), "n_train": int(len(x_train)), "train_seconds": time.perf_counter() - start,
            "tensorflow": tf.__version__}
    write_json(os.path.join(cache_dir, "info.json"), info)
    return info


def load(data_dir: Optional[str] = None, cache_dir: Optional[str] = None,
         log: Callable[[str], None] = print) -> Classifier:
    """The cached classifier, trained first when there is none."""
    cache_dir = cache_dir or default_dir()
    info_path = os.path.join(cache_dir, "info.json")
    weights = os.path.join(cache_dir, "weights.weights.h5")
    info = None
    if os.path.exists(info_path) and os.path.exists(weights):
        with open(info_path, encoding="utf-8") as f:
            info = json.load(f)
        if {k: info.get(k) for k in recipe()} != recipe():
            log(f"The cached Fashion-MNIST classifier in {cache_dir} was trained with another recipe; retraining.")
            info = None
    if info is None:
        info = train(data_dir, cache_dir, log)
    model = build()
    model.load_weights(weights)
    sha = weights_sha256(model)
    if sha != info["sha256"]:
        raise ValueError(f"The cached Fashion-MNIST classifier in {cache_dir} does not match its info.json (weights "
                         f"sha256 {sha[:12]}…, recorded {info['sha256'][:12]}…); delete the folder to retrain it.")

    @tf.function(reduce_retracing=True)
    def fn(x):
        if x.shape[-1] != 1 or x.shape[1] != 32:
            raise ValueError(f"The Fashion-MNIST classifier takes 32×32×1 images, got {x.shape[1:]}.")
        return model(x, training=False)

    return Classifier(NAME, sha, fn, resize=None,
                      provenance={"classifier_test_accuracy": info["test_accuracy"],
                                  "classifier_n_test": info["n_test"]})
