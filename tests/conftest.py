"""Shared test setup: quiet TensorFlow start-up logs and small float64 games."""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from jare_tf.games import Game  # noqa: E402
from jare_tf.models import toy  # noqa: E402


def small_mlp_game(seed: int = 0, generator_loss: str = "minimax", regularizer_generator_loss: str = "same",
                   family: str = "vanilla", batch_size: int = 6):
    """A 2-D MLP game in float64 with a fixed minibatch: G 3→5→2 (tanh), D 2→5→1 (tanh)."""
    import keras
    keras.utils.set_random_seed(seed)
    g = toy.mlp(3, [5], 2, dtype="float64", name="generator", activation="tanh")
    d = toy.mlp(2, [5], 1, dtype="float64", name="discriminator", activation="tanh")
    rng = np.random.default_rng(seed)
    # Non-zero biases, so no parameter sits at a special point.
    for v in g.trainable_variables + d.trainable_variables:
        v.assign(v.numpy() + 0.3 * rng.standard_normal(v.shape))
    batch = {"real": tf.constant(rng.standard_normal((batch_size, 2)) + [1.0, -0.5]),
             "z": tf.constant(rng.standard_normal((batch_size, 3)))}
    game = Game(g, d, family=family, generator_loss=generator_loss,
                regularizer_generator_loss=regularizer_generator_loss)
    return game, batch


@pytest.fixture
def mlp_game():
    return small_mlp_game()


# --- Fashion-MNIST: the one real image dataset every machine here has (Debian's dataset-fashion-mnist) ----------

def _made_once(tmp_path_factory, name, make):
    """A folder made by `make(path)` once per test session, also when pytest-xdist runs the tests in several
    worker processes: they share the session's base temporary folder, and a file lock lets one of them make it
    while the others wait for it (a `done` marker tells a finished folder from one a crashed worker left)."""
    from filelock import FileLock
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / name
    with FileLock(str(path) + ".lock"):
        if not (path / "done").exists():
            if path.exists():
                shutil.rmtree(path)
            path.mkdir()
            make(str(path))
            (path / "done").write_text("")
    return str(path)


@pytest.fixture(scope="session")
def fashion_mnist_data_dir(tmp_path_factory):
    """A TFDS data_dir with fashion_mnist prepared from the Debian idx files (about 30 s, once per session)."""
    from jare_tf.data import fashion_mnist
    if not os.path.exists(os.path.join(fashion_mnist.DEBIAN_DIR, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST idx files not installed ({fashion_mnist.INSTALL}; .ci/run installs them)")
    return _made_once(tmp_path_factory, "tfds", lambda path: fashion_mnist.prepare(path, log=lambda line: None))


@pytest.fixture(scope="session")
def fashion_mnist_cache(tmp_path_factory, fashion_mnist_data_dir):
    """$JARE_TF_CACHE with the Fashion-MNIST classifier, trained by the package's recipe on the first 10,000
    training images (about 1.3 min on two cores and 0.87 test accuracy, once per session; all 60,000 take 5.5 min and reach 0.915, the
    figure docs/results/fashion_mnist.md records). "log" holds what training printed."""
    from jare_tf.evaluation import domain_classifier

    def make(cache):
        with open(os.path.join(cache, "train_log.txt"), "w") as log:
            domain_classifier.train(fashion_mnist_data_dir, os.path.join(cache, "classifiers", "fashion_mnist"),
                                    lambda line: log.write(line + "\n"), max_train=10000, min_accuracy=0.85)

    cache = _made_once(tmp_path_factory, "jare_tf_cache", make)
    classifier = domain_classifier.load(fashion_mnist_data_dir, os.path.join(cache, "classifiers", "fashion_mnist"),
                                        log=print)
    lines = open(os.path.join(cache, "train_log.txt")).read().splitlines()
    return {"dir": cache, "classifier": classifier, "log": lines}
