"""Per-player optimizers against their update formulas in numpy, and the updater against hand-applied steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.games import Players
from jare_tf.training import optimizers
from jare_tf.training.updater import Updater
from tests.conftest import small_mlp_game

GRADS = [np.array([0.3, -1.2, 0.05]), np.array([-0.7, 0.4, 2.0]), np.array([0.1, 0.1, -0.3])]


def run_optimizer(opt, w0):
    var = keras.Variable(np.array(w0), dtype="float64")
    for g in GRADS:
        opt.apply([tf.constant(g)], [var])
    return var.numpy()


# Keras keeps optimizer hyperparameters in float32, so the tests use values float32 holds exactly.


def test_reference_rmsprop_starts_its_accumulator_at_one():
    lr, rho, eps = 0.0625, 0.875, 1e-10
    w, ms = np.array([1.0, 2.0, -1.0]), np.ones(3)
    expected = w.copy()
    for g in GRADS:
        ms = rho * ms + (1 - rho) * g * g
        expected = expected - lr * g / np.sqrt(ms + eps)
    opt = optimizers.make({"name": "rmsprop", "learning_rate": lr, "rho": rho})
    np.testing.assert_allclose(run_optimizer(opt, w), expected, rtol=1e-12)
    default = optimizers.make({"name": "rmsprop", "learning_rate": 1e-4})
    assert (default.rho, default.epsilon, default.momentum, default.centered) == (0.9, 1e-10, 0.0, False)


def test_adam_uses_the_reference_epsilon_and_epsilon_hat_form():
    lr, b1, b2, eps = 0.0625, 0.5, 0.75, 1e-8
    w, m, v = np.array([1.0, 2.0, -1.0]), np.zeros(3), np.zeros(3)
    expected = w.copy()
    for t, g in enumerate(GRADS, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        expected = expected - lr_t * m / (np.sqrt(v) + eps)
    opt = optimizers.make({"name": "adam", "learning_rate": lr, "beta_1": b1, "beta_2": b2})
    assert opt.epsilon == eps
    np.testing.assert_allclose(run_optimizer(opt, w), expected, rtol=1e-12)


def test_each_player_gets_its_own_optimizer_and_the_methods_overrides():
    adam = {"name": "adam", "learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.999}
    ref = methods.get("altgd", order="g_first", g_beta1=0.9)
    opts = optimizers.for_players(adam, adam, ref.optimizer_overrides())
    assert opts.g is not opts.d
    assert (opts.g.beta_1, opts.d.beta_1) == (0.9, 0.5)


def test_bad_optimizer_specs_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown optimizer name 'adagrad'"):
        optimizers.make({"name": "adagrad", "learning_rate": 1e-3})
    with pytest.raises(ValueError, match="learning_rate > 0"):
        optimizers.make({"name": "sgd", "learning_rate": -1.0})
    with pytest.raises(ValueError, match="Bad option for the sgd optimizer"):
        optimizers.make({"name": "sgd", "learning_rate": 1.0, "beta_1": 0.5})


def sgd_pair(lr):
    return optimizers.for_players({"name": "sgd", "learning_rate": lr}, {"name": "sgd", "learning_rate": lr})


def flat(params):
    return np.concatenate([np.ravel(t) for t in list(params.g) + list(params.d)])


def test_simultaneous_step_is_w_minus_lr_u_from_one_minibatch():
    game, batch = small_mlp_game(seed=8)
    method = methods.get("jare", gamma=0.5)
    u = method.directions(game, game.params(), game.state(), batch).updates
    before = flat(game.params())
    seen = []
    Updater(method, game, sgd_pair(0.125)).step(lambda k: seen.append(k) or batch)
    assert seen == [0]
    np.testing.assert_allclose(flat(game.params()), before - 0.125 * flat(u), rtol=1e-12, atol=1e-15)


def test_alternating_stages_see_a_fresh_batch_and_the_updated_opponent():
    game, batch0 = small_mlp_game(seed=9)
    _, batch1 = small_mlp_game(seed=10)
    gan = methods.get("gan")
    p0 = game.params()
    d_new = [t - 0.125 * u for t, u in zip(p0.d, gan.directions(game, p0, game.state(), batch0).updates.d)]
    g_dir = gan.directions(game, Players(p0.g, d_new), game.state(), batch1).updates.g
    g_new = [t - 0.125 * u for t, u in zip(p0.g, g_dir)]
    Updater(methods.get("altgd"), game, sgd_pair(0.125)).step(lambda k: (batch0, batch1)[k])
    np.testing.assert_allclose(flat(game.params()), flat(Players(g_new, d_new)), rtol=1e-12, atol=1e-15)


def test_projection_follows_the_optimizer_step():
    game, batch = small_mlp_game(seed=11, family="wgan")
    Updater(methods.get("wgan", clip=0.05), game, sgd_pair(0.5)).step(lambda k: batch)
    d = np.concatenate([np.ravel(v.numpy()) for v in game.discriminator.trainable_variables])
    assert np.max(np.abs(d)) <= 0.05 and np.sum(np.abs(d) == 0.05) > 0


def test_the_updater_runs_inside_tf_function():
    game, batch = small_mlp_game(seed=12)
    eager_game, _ = small_mlp_game(seed=12)
    method = methods.get("conopt", gamma=0.3)
    fn_updater = Updater(method, game, sgd_pair(0.05))
    eager_updater = Updater(method, eager_game, sgd_pair(0.05))

    @tf.function
    def steps():
        for _ in tf.range(3):
            fn_updater.step(lambda k: batch)

    steps()
    for _ in range(3):
        eager_updater.step(lambda k: batch)
    np.testing.assert_allclose(flat(game.params()), flat(eager_game.params()), rtol=1e-10)
