"""The network behind IS / FID / KID: TF-GAN's Inception (TF-Hub), a local copy of it, the Fashion-MNIST
classifier (`domain_classifier`), or a small stand-in.

A Classifier is built once and maps a batch of images in [−1, 1] to {"logits", "pool"} activations; the
evaluator streams batches through it (TF-GAN's helpers that reload the module on every call grow memory).
Its `sha256` identifies the weights and goes next to every number it produces.

Resize modes for the Inception input (299×299): "tf2_bilinear" (tf.image.resize, half-pixel centres) and
"tf1_legacy" (tf.compat.v1.image.resize_bilinear without half-pixel centres, as the JARE reference code's FID,
reference_spec D.2). Both then map [0, 255] to [−1, 1) by (x − 128)/128.
"""

import dataclasses
import hashlib
import os
from typing import Callable, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

INCEPTION_TFHUB = "https://tfhub.dev/tensorflow/tfgan/eval/inception/1"   # TF-GAN's handle
RESIZE_MODES = ("tf2_bilinear", "tf1_legacy")


class ClassifierUnavailable(RuntimeError):
    pass


@dataclasses.dataclass
class Classifier:
    name: str
    sha256: str
    #: images in [−1, 1] → {"logits": [N, C], "pool": [N, D]}
    fn: Callable[[tf.Tensor], Dict[str, tf.Tensor]]
    #: The resize mode applied to its input (Inception: to 299×299), None when it takes the images as they are.
    resize: Optional[str] = None
    #: Facts about the network that go into every score's provenance (e.g. a domain classifier's test accuracy).
    provenance: Dict[str, object] = dataclasses.field(default_factory=dict)


def weights_sha256(model: keras.Model) -> str:
    """sha256 of a Keras model's weight values in order (not of a file container, whose bytes carry timestamps)."""
    return hashlib.sha256(b"".join(np.asarray(w, np.float32).tobytes() for w in model.get_weights())).hexdigest()


def to_inception_input(images: tf.Tensor, resize: str, size: int = 299) -> tf.Tensor:
    """[−1, 1] images → [0, 255] → resized to size×size → (x − 128)/128; grayscale is repeated into RGB."""
    x = (tf.cast(images, tf.float32) + 1.0) * 127.5
    if x.shape[-1] == 1:
        x = tf.image.grayscale_to_rgb(x)
    if resize == "tf2_bilinear":
        x = tf.image.resize(x, [size, size], method="bilinear")
    elif resize == "tf1_legacy":
        x = tf.compat.v1.image.resize_bilinear(x, [size, size], align_corners=False, half_pixel_centers=False)
    else:
        raise ValueError(f"Unknown resize mode {resize!r}; choose one of {RESIZE_MODES}.")
    return (x - 128.0) / 128.0


def _hash_files(path: str) -> str:
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            with open(os.path.join(folder, name), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def inception(path: Optional[str], resize: str) -> Classifier:
    """TF-GAN's Inception from TF-Hub (default) or from a local copy of the module (--inception_path)."""
    import tensorflow_hub as hub
    handle = path or INCEPTION_TFHUB
    try:
        module = hub.load(handle)
    except Exception as e:  # noqa: BLE001 (network, missing file, bad format: all mean "cannot load it")
        raise ClassifierUnavailable(
            f"Cannot load the Inception network from {handle} ({type(e).__name__}: {str(e)[:200]}). Online, the "
            f"default TF-Hub handle is fetched automatically; on an offline cluster download the module once "
            f"(e.g. `python -c \"import tensorflow_hub as hub; hub.resolve('{INCEPTION_TFHUB}')\"` on a machine "
            f"with network, then copy the printed folder) and pass --inception_path=<that folder>.") from None
    sha = _hash_files(hub.resolve(handle) if path is None else path)

    def fn(images):
        out = module(to_inception_input(images, resize))
        return {"logits": tf.reshape(out["logits"], [tf.shape(images)[0], -1]),
                "pool": tf.reshape(out["pool_3"], [tf.shape(images)[0], -1])}

    return Classifier("inception_tfgan", sha, fn, resize=resize)


def stand_in(resize: str = "tf2_bilinear", seed: int = 0, classes: int = 10, features: int = 64,
             size: int = 64) -> Classifier:
    """A small fixed random conv net with the Classifier interface and Inception's input path (the resize mode,
    to size×size), for tests and offline smoke runs only: its scores are not Inception Score or FID and must not
    be reported as such."""
    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    x = keras.layers.Conv2D(features, 3, strides=2, activation="relu")(x)
    pool = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(classes)(pool)
    model = keras.Model(inputs, {"logits": logits, "pool": pool})

    def fn(images):
        return model(to_inception_input(images, resize, size), training=False)

    return Classifier("stand_in", weights_sha256(model), fn, resize=resize)
