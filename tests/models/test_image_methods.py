"""Every method on the image settings A, C and E with a tiny batch, and the layer-state rules of the reference:
each discriminator call advances the spectral-norm u once (real batch, then fake batch), and extra passes that
only this project makes (WGAN-GP interpolates, R1/R2 inputs) add no state update."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods, settings
from jare_tf.games import Game
from jare_tf.models import architectures
from jare_tf.models.spectral_norm import power_iteration


def tiny_batch(size=32, n=2):
    return {"real": tf.random.stateless_uniform([n, size, size, 3], [1, 1], -1.0, 1.0),
            "z": tf.random.stateless_normal([n, 128], [2, 2])}


@pytest.mark.parametrize("setting", ["A", "C", "E"])
def test_every_method_computes_its_update(setting):
    config = settings.load(setting)
    games = {}
    for name in methods.names():
        method = methods.get(name, **settings.method_options(config, name))
        key = (method.spectral_norm_discriminator, method.required_family)
        if key not in games:
            games[key] = settings.image_game(config, method)
        game = games[key]
        batch = tiny_batch()
        batch.update(method.sample_inputs(batch, tf.constant([3, 4])))
        params = game.params()
        for stage in method.stages():
            d = method.directions(game, params, game.state(), batch, stage)
            for player in stage.players:
                updates = getattr(d.updates, player)
                assert [u.shape for u in updates] == [p.shape for p in getattr(params, player)], name
                assert all(bool(tf.reduce_all(tf.math.is_finite(u))) for u in updates), (setting, name)


def test_generator_samples_have_the_settings_shape_and_range():
    for setting in ("A", "B", "C", "D", "E", "F", "celeba", "imagenet"):
        config = settings.load(setting)
        game = settings.image_game(config, methods.get("gan"))
        x, _ = game.generate(game.params().g, tf.random.stateless_normal([2, config.z_dim], [0, 1]),
                             game.state().g)
        assert x.shape == (2, config.image_size, config.image_size, 3)
        assert float(tf.reduce_max(tf.abs(x))) <= 1.0


def two_power_iterations(game):
    """Expected u of every SN layer after the real and the fake call of one step."""
    out = []
    for layer in game.discriminator.layers:
        if hasattr(layer, "u"):
            u = tf.constant(layer.u.numpy())
            for _ in range(2):
                _, u = power_iteration(layer.kernel, u)
            out.append(u.numpy())
    return out


def test_spectral_norm_state_advances_once_per_discriminator_call_and_never_for_extra_passes():
    g, d = architectures.build("dcgan4_nobn", 128, spectral_norm=True)
    batch = tiny_batch()
    expected = two_power_iterations(Game(g, d))
    for name, family in (("gan", "vanilla"), ("jare", "vanilla"), ("r1", "vanilla"), ("r2", "vanilla"),
                         ("wgan_gp", "wgan"), ("extrapolation", "vanilla")):
        game = Game(g, d, family=family, generator_loss="non_saturating")
        method = methods.get(name, gamma=1.0)
        b = dict(batch, **method.sample_inputs(batch, tf.constant([5, 6])))
        new_state = method.directions(game, game.params(), game.state(), b).state.d
        assert len(new_state) == len(expected) == 5
        for got, want in zip(new_state, expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)
