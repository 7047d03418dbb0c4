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

The same network and recipe train on any labelled dataset (`jare-eval --classifier=train:<dataset>`, issue 27):
a built-in name or tfds:<name>[/<config>][:<split>] (its "label" feature; trained on that split, train by
default, and measured on its test split), at the run's resolution and channel count, with as many outputs as
the labels have classes. Cached in classifiers/<dataset>_<resolution>, and refused below twice chance accuracy
(2 / classes; Fashion-MNIST keeps its 0.90). `load_path` loads any such cache folder (`--classifier=<folder>`),
so a classifier trained on a labelled dataset can score runs on an unlabelled folder of the same kind of images.
"""

import json
import os
import re
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


#: The dataset and resolution the package's own classifier is for (`--classifier=fashion_mnist`).
FASHION_MNIST = ("fashion_mnist", 32)


def _slug(dataset: str, image_size: int) -> str:
    if (dataset, image_size) == FASHION_MNIST:
        return "fashion_mnist"
    return re.sub(r"[^\w.-]+", "_", dataset) + f"_{image_size}"


def default_dir(dataset: str = FASHION_MNIST[0], image_size: int = FASHION_MNIST[1]) -> str:
    return os.path.join(os.environ.get("JARE_TF_CACHE", os.path.expanduser("~/.cache/jare_tf")), "classifiers",
                        _slug(dataset, image_size))


def build(shape=(32, 32, 1), classes: int = CLASSES, name: str = NAME) -> keras.Model:
    """The network, with outputs {"logits": [N, classes], "pool": [N, 128]}."""
    x = inputs = keras.Input(tuple(shape))
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{filters}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{filters}")(x)
    x = keras.layers.Dropout(0.3)(keras.layers.Flatten()(x))
    pool = keras.layers.Dense(FEATURES, activation="relu", name="features")(x)
    logits = keras.layers.Dense(classes, name="logits")(keras.layers.Dropout(0.3)(pool))
    return keras.Model(inputs, {"logits": logits, "pool": pool}, name=name)


def recipe(epochs: int = EPOCHS, dataset: str = FASHION_MNIST[0], image_size: int = FASHION_MNIST[1]) -> dict:
    """What makes the cached classifier what it is; a cache made with another recipe is retrained. Another
    dataset's recipe also names the dataset and the resolution (Fashion-MNIST's is as it was, so its caches
    stay valid)."""
    own = {"name": NAME, "epochs": epochs, "batch_size": BATCH, "learning_rate": LEARNING_RATE,
           "final_learning_rate": FINAL_LEARNING_RATE, "seed": SEED}
    if (dataset, image_size) == FASHION_MNIST:
        return own
    return dict(own, name=f"{_slug(dataset, image_size)}_cnn", dataset=dataset, image_size=image_size)


def _unit(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) / 127.5 - 1.0


def _labelled(dataset: str, image_size: int, data_dir: Optional[str]):
    """(x_train, y_train, x_test, y_test, classes) of a labelled dataset, or ValueError naming what is missing."""
    from jare_tf.data import images, own_data
    if (dataset, image_size) == FASHION_MNIST:
        x_train, y_train = images.load_split("fashion_mnist", 32, data_dir, with_labels=True)
        x_test, y_test = images.load_split("fashion_mnist", 32, data_dir, split="test", with_labels=True)
        return x_train, y_train, x_test, y_test, CLASSES
    flag = f"--classifier=train:{dataset}"
    if own_data.is_own(dataset) and own_data.parse(dataset).kind == "folder":
        raise ValueError(f"{flag}: a folder has no labels; train the classifier on a labelled TFDS dataset of the "
                         f"same kind of images (train:tfds:<name>), or score with --classifier=inception.")
    data = images.resolve(dataset, data_dir) if own_data.is_own(dataset) else images.spec(dataset)
    x_train, y_train = images.load_split(data, image_size, data_dir, with_labels=True)
    try:
        x_test, y_test = images.load_split(data, image_size, data_dir, split="test", with_labels=True)
    except (ValueError, KeyError) as e:
        raise ValueError(f"{flag}: its test split cannot be read ({str(e).splitlines()[0][:160]}); the classifier's "
                         f"accuracy is measured on the dataset's test split.") from None
    if (y_train < 0).any():
        raise ValueError(f"{flag}: {dataset} has no label feature; train the classifier on a labelled dataset, or "
                         f"score with --classifier=inception.")
    return x_train, y_train, x_test, y_test, int(max(y_train.max(), y_test.max())) + 1


def train(data_dir: Optional[str], cache_dir: str, log: Callable[[str], None] = print,
          epochs: int = EPOCHS, max_train: Optional[int] = None,
          min_accuracy: Optional[float] = None, dataset: str = FASHION_MNIST[0],
          image_size: int = FASHION_MNIST[1]) -> dict:
    """Train the classifier on the training split (its first `max_train` images: tests), measure it on the test
    split and cache it; returns info (which records the number of training images). `min_accuracy` defaults to
    MIN_TEST_ACCURACY for Fashion-MNIST and to twice chance (2 / classes) for another dataset."""
    x_train, y_train, x_test, y_test, classes = _labelled(dataset, image_size, data_dir)
    x_train, y_train = x_train[:max_train], y_train[:max_train]
    fashion = (dataset, image_size) == FASHION_MNIST
    if min_accuracy is None:
        min_accuracy = MIN_TEST_ACCURACY if fashion else 2.0 / classes
    what = "the Fashion-MNIST classifier" if fashion else f"a classifier of {dataset} at {image_size}×{image_size}"
    keras.utils.set_random_seed(SEED)
    model = build(x_train.shape[1:], classes, recipe(epochs, dataset, image_size)["name"])
    classify = keras.Model(model.input, model.output["logits"])
    classify.compile(keras.optimizers.Adam(LEARNING_RATE),
                     keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    log(f"Training {what} ({epochs} epochs on {len(x_train)} images; once, then cached in {cache_dir}) ...")
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
    log(f"{what[0].upper() + what[1:]}: test accuracy {accuracy:.4f} on {len(x_test)} test images.")
    if accuracy < min_accuracy:
        raise ClassifierUnavailable(f"{what[0].upper() + what[1:]} reached only {accuracy:.4f} test accuracy (< "
                                    f"{min_accuracy:.3f}); it is not cached.")
    os.makedirs(cache_dir, exist_ok=True)
    weights = os.path.join(cache_dir, "weights.weights.h5")
    tmp = os.path.join(cache_dir, "weights.tmp.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, weights)
    shape = {} if fashion else {"channels": int(x_train.shape[-1]), "classes": classes}
    info = {**recipe(epochs, dataset, image_size), **shape, "sha256": weights_sha256(model),
            "test_accuracy": float(accuracy),
            "n_test": int(len(x_test)), "n_train": int(len(x_train)), "train_seconds": time.perf_counter() - start,
            "tensorflow": tf.__version__}
    write_json(os.path.join(cache_dir, "info.json"), info)
    return info


def load(data_dir: Optional[str] = None, cache_dir: Optional[str] = None,
         log: Callable[[str], None] = print, dataset: str = FASHION_MNIST[0],
         image_size: int = FASHION_MNIST[1]) -> Classifier:
    """The cached classifier of `dataset` at `image_size` (Fashion-MNIST at 32 by default), trained first when
    there is none."""
    cache_dir = cache_dir or default_dir(dataset, image_size)
    info_path = os.path.join(cache_dir, "info.json")
    weights = os.path.join(cache_dir, "weights.weights.h5")
    info, wanted = None, recipe(EPOCHS, dataset, image_size)
    if os.path.exists(info_path) and os.path.exists(weights):
        with open(info_path, encoding="utf-8") as f:
            info = json.load(f)
        if {k: info.get(k) for k in wanted} != wanted:
            log(f"The cached classifier in {cache_dir} was trained with another recipe; retraining.")
            info = None
    if info is None:
        train(data_dir, cache_dir, log, dataset=dataset, image_size=image_size)
    return load_path(cache_dir)


def load_path(cache_dir: str) -> Classifier:
    """A classifier cache folder (weights.weights.h5 and info.json, as `train` writes it: `--classifier=<folder>`),
    refused when a file is missing or the weights do not match their recorded sha256."""
    info_path = os.path.join(cache_dir, "info.json")
    weights = os.path.join(cache_dir, "weights.weights.h5")
    if not (os.path.isfile(info_path) and os.path.isfile(weights)):
        raise ValueError(f"--classifier={cache_dir} is not a classifier folder (it needs info.json and "
                         f"weights.weights.h5, as jare-eval --classifier=train:<dataset> caches them).")
    with open(info_path, encoding="utf-8") as f:
        info = json.load(f)
    size, channels, classes = info.get("image_size", 32), info.get("channels", 1), info.get("classes", CLASSES)
    name = info.get("name", NAME)
    model = build((size, size, channels), classes, name)
    model.load_weights(weights)
    sha = weights_sha256(model)
    if sha != info["sha256"]:
        raise ValueError(f"The cached classifier in {cache_dir} does not match its info.json (weights sha256 "
                         f"{sha[:12]}…, recorded {info['sha256'][:12]}…); delete the folder to retrain it.")

    @tf.function(reduce_retracing=True)
    def fn(x):
        if x.shape[-1] != channels or x.shape[1] != size:
            raise ValueError(f"The classifier in {cache_dir} takes {size}×{size}×{channels} images, got "
                             f"{x.shape[1:]}; train one for this run's data with --classifier=train:<dataset>.")
        return model(x, training=False)

    return Classifier(name, sha, fn, resize=None,
                      provenance={"classifier_test_accuracy": info["test_accuracy"],
                                  "classifier_n_test": info["n_test"],
                                  **({"classifier_dataset": info["dataset"]} if "dataset" in info else {})})
