"""The "Your own models" snippet of docs/own_models.md (linked from the README), run as written, trains every
registered method (issue 23): the methods' own inputs a {"real", "z"} pipeline lacks are drawn by GANModel on one
device, and a pipeline that cannot be completed is refused with one error naming the keys and the fix."""

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.games import Game, Players
from jare_tf.training.gan_model import GANModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
Z_DIM, BATCH, STEPS = 3, 8, 3


#: The page the snippet lives on (linked from the README); the snippet is its python block under "With
#: `GANModel.fit`".
RECIPE = ROOT / "docs" / "own_models.md"


def recipe_snippet() -> str:
    text = RECIPE.read_text(encoding="utf-8")
    section = text[text.index("## With `GANModel.fit`"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def players(seed: int = 0):
    keras.utils.set_random_seed(seed)
    g = keras.Sequential([keras.Input((Z_DIM,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    return g, d


def minibatches(k: int) -> tf.data.Dataset:
    """{"real", "z"} only, each [K, B, ...]: what docs/own_models.md asks of a user's pipeline."""
    def element(step):
        seed = tf.stack([tf.cast(step, tf.int32), 11])
        return {"real": 1.0 + tf.random.stateless_normal([k, BATCH, 2], seed),
                "z": tf.random.stateless_normal([k, BATCH, Z_DIM], seed + 1)}
    return tf.data.Dataset.range(STEPS).map(element)


OPTIONS = {"gan": {}, "sngan": {}, "wgan": {}, "instance_noise": {"std": 0.1}, "altgd": {"n_d": 2}}


@pytest.mark.parametrize("method_name", methods.names())
def test_documented_snippet_trains_every_method(method_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    generator, discriminator = players()
    before = [v.numpy().copy() for v in generator.weights + discriminator.weights]
    namespace = {"method_name": method_name, "options": OPTIONS.get(method_name, {"gamma": 1.0}),
                 "my_generator": generator, "my_discriminator": discriminator, "my_minibatches": minibatches,
                 "steps": STEPS}
    exec(compile(recipe_snippet(), str(RECIPE.relative_to(ROOT)), "exec"), namespace)
    model = namespace["model"]
    assert int(model.iteration.numpy()) == STEPS
    after = [v.numpy() for v in generator.weights + discriminator.weights]
    assert all(np.isfinite(a).all() for a in after)
    assert any(not np.array_equal(a, b) for a, b in zip(after, before)), "fit changed no parameter"
    assert (tmp_path / "ckpts" / "checkpoint").exists()


def test_drawn_inputs_equal_supplied_ones():
    """What GANModel draws for a minibatch that lacks the method's inputs is what a pipeline supplying
    `sample_inputs(b, step_seed(seed, step, k))` gives: the same parameters after the same steps."""
    from jare_tf.data.synthetic import step_seed
    results = []
    for supplied in (False, True):
        generator, discriminator = players(1)
        method = methods.get("wgan_gp", gamma=1.0)
        model = GANModel(Game(generator, discriminator, family="wgan"), method,
                         Players(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)), seed=5)
        model.compile(optimizer=None, steps_per_execution=1)
        data = minibatches(1)
        if supplied:
            def add(step, element):
                b = {key: value[0] for key, value in element.items()}
                extra = method.sample_inputs(b, step_seed(5, step, 0))
                return dict(element, **{key: value[None] for key, value in extra.items()})
            data = tf.data.Dataset.zip((tf.data.Dataset.range(STEPS), data)).map(add)
        model.fit(data, steps_per_epoch=STEPS, verbose=0)
        results.append([v.numpy() for v in generator.weights + discriminator.weights])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_a_minibatch_without_z_is_named():
    generator, discriminator = players()
    model = GANModel(Game(generator, discriminator), methods.get("gan"),
                     Players(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)))
    model.compile(optimizer=None, steps_per_execution=1)
    data = minibatches(1).map(lambda e: {"real": e["real"]})
    with pytest.raises(ValueError, match=r"lack \['z'\]"):
        model.fit(data, steps_per_epoch=1, verbose=0)


def test_wgan_gp_on_a_vanilla_game_says_what_to_change_in_the_game():
    generator, discriminator = players()
    with pytest.raises(ValueError, match=r"family='wgan'.*Game\(generator, discriminator, family='wgan'\)"):
        methods.get("wgan_gp", gamma=1.0).check_game(Game(generator, discriminator))


def test_method_inputs_missing_under_two_replicas_are_refused_with_the_fix():
    script = textwrap.dedent(f"""
        import keras, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import sys; sys.path.insert(0, {str(ROOT / "tests" / "training")!r})
        from test_api_recipe import players, minibatches
        from jare_tf import methods
        from jare_tf.games import Game, Players
        from jare_tf.training.gan_model import GANModel
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            g, d = players()
            model = GANModel(Game(g, d), methods.get("instance_noise", std=0.1),
                             Players(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)))
            model.compile(optimizer=None, steps_per_execution=1)
        try:
            model.fit(minibatches(1), steps_per_epoch=1, verbose=0)
        except ValueError as e:
            print("REFUSED", str(e))
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    refused = [line for line in out.stdout.splitlines() if line.startswith("REFUSED")]
    assert refused, out.stdout[-2000:] + out.stderr[-3000:]
    assert "noise_real" in refused[0] and "2 replicas" in refused[0] and "sample_inputs" in refused[0]
