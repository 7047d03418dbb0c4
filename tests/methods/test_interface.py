"""The Method interface: registry, stages, projections, method inputs and loud failures."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.games import Game, Players
from jare_tf.methods import base
from jare_tf.models import toy
from tests.conftest import small_mlp_game

ALL = ["altgd", "conopt", "disc_only", "extrapolation", "gan", "gen_only", "instance_noise", "jare", "r1", "r2",
       "sngan", "wgan", "wgan_gp"]


def test_every_method_is_registered():
    assert methods.names() == sorted(ALL)
    with pytest.raises(ValueError, match="valid methods: altgd, conopt"):
        methods.get("simgd")


@pytest.mark.parametrize("name", ALL)
def test_every_method_computes_finite_directions_on_an_mlp_game(name):
    method = methods.get(name, gamma=0.5)
    family = method.required_family or "vanilla"
    game, batch = small_mlp_game(seed=4, family=family, generator_loss="non_saturating")
    batch = dict(batch, **method.sample_inputs(batch, tf.constant([1, 2])))
    params = game.params()
    for stage in method.stages():
        d = method.directions(game, params, game.state(), batch, stage)
        for player, group in zip("gd", d.updates):
            if player in stage.players:
                assert [u.shape for u in group] == [p.shape for p in getattr(params, player)]
                assert all(np.all(np.isfinite(u.numpy())) for u in group)
            else:
                assert group is None
        assert "loss/d" in d.scalars and "loss/g" in d.scalars


def test_negative_gamma_is_rejected():
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        methods.get("jare", gamma=-1.0)


def test_a_parameter_without_gradient_fails_loudly():
    class Unused(toy.Translation):
        def build(self, input_shape):
            super().build(input_shape)
            self.unused = self.add_weight(name="unused", shape=(3,))

    import keras
    z = keras.Input((2,), dtype="float64")
    g = keras.Model(z, Unused([0.0, 1.0], dtype="float64")(z))
    game = Game(g, toy.linear_discriminator([0.1, 0.2], "float64"))
    batch = {"real": tf.ones([4, 2], tf.float64), "z": tf.zeros([4, 2], tf.float64)}
    with pytest.raises(ValueError, match=r"no gradient for parameter\(s\) #1 shape \(3,\)"):
        methods.get("jare", gamma=1.0).directions(game, game.params(), game.state(), batch)


def test_altgd_stages_order_and_reference_betas():
    assert methods.get("altgd", n_d=5).stages() == (base.Stage(("d",), 5), base.Stage(("g",), 1))
    ref = methods.get("altgd", order="g_first", g_beta1=0.9)
    assert [s.players for s in ref.stages()] == [("g",), ("d",)]
    assert ref.optimizer_overrides() == Players({"beta_1": 0.9}, {})
    with pytest.raises(ValueError, match="order"):
        methods.get("altgd", order="random")


def test_wgan_clips_only_the_discriminator_and_needs_the_wgan_loss():
    m = methods.get("wgan", clip=0.5)
    p = m.project(Players([tf.constant([2.0, -3.0], tf.float64)], [tf.constant([2.0, -0.1, -3.0], tf.float64)]))
    np.testing.assert_array_equal(p.g[0], [2.0, -3.0])
    np.testing.assert_array_equal(p.d[0], [0.5, -0.1, -0.5])
    game, batch = small_mlp_game(family="vanilla")
    with pytest.raises(ValueError, match="'wgan' loss family"):
        m.directions(game, game.params(), game.state(), batch)


def test_instance_noise_inputs_and_their_effect():
    game, batch = small_mlp_game(seed=5)
    m = methods.get("instance_noise", std=0.3, num_draws=4)
    noise = m.sample_inputs(batch, tf.constant([0, 7]))
    assert noise["noise_real"].shape == (6, 4, 2) and noise["noise_fake"].shape == (6, 4, 2)
    assert not np.allclose(noise["noise_real"], noise["noise_fake"])
    zero = {k: tf.zeros_like(v) for k, v in noise.items()}
    plain = methods.get("gan").directions(game, game.params(), game.state(), batch).updates
    with_zero = m.directions(game, game.params(), game.state(), dict(batch, **zero)).updates
    np.testing.assert_allclose(np.concatenate([np.ravel(t) for t in with_zero.d]),
                               np.concatenate([np.ravel(t) for t in plain.d]), rtol=1e-12)
    noisy = m.directions(game, game.params(), game.state(), dict(batch, **noise)).updates
    assert not np.allclose(noisy.d[0], plain.d[0])


def test_method_inputs_are_deterministic_in_the_seed():
    game, batch = small_mlp_game()
    m = methods.get("wgan_gp")
    a = m.sample_inputs(batch, tf.constant([3, 4]))["alpha"]
    np.testing.assert_array_equal(a, m.sample_inputs(batch, tf.constant([3, 4]))["alpha"])
    assert not np.allclose(a, m.sample_inputs(batch, tf.constant([3, 5]))["alpha"])


def test_extrapolation_is_literal_eq_13_with_distance_gamma():
    """u_φ = ∇_φ L_G(φ, θ − γ g_θ), u_θ = ∇_θ L_D(φ − γ g_φ, θ), written out with one tape per point."""
    game, batch = small_mlp_game(seed=6)
    gamma = 0.4
    p = game.params()
    g = methods.get("gan").directions(game, p, game.state(), batch).updates
    theta_half = [t - gamma * u for t, u in zip(p.d, g.d)]
    phi_half = [t - gamma * u for t, u in zip(p.g, g.g)]
    u_g = methods.get("gan").directions(game, Players(p.g, theta_half), game.state(), batch).updates.g
    u_d = methods.get("gan").directions(game, Players(phi_half, p.d), game.state(), batch).updates.d
    ext = methods.get("extrapolation", gamma=gamma).directions(game, p, game.state(), batch).updates
    for a, b in zip(ext.g + ext.d, u_g + u_d):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_r1_reuses_the_main_pass_and_wgan_gp_discards_its_extra_state():
    """Layer state: a counter layer in D counts calls; R1 adds none, WGAN-GP's extra pass is not kept."""
    import keras

    class CallCounter(keras.layers.Layer):
        def build(self, input_shape):
            self.calls = self.add_weight(name="calls", shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.calls.assign(self.calls + 1.0)
            return x

    x = inputs = keras.Input((2,), dtype="float64")
    x = CallCounter(dtype="float64")(x)
    d = keras.Model(inputs, keras.layers.Dense(1, dtype="float64")(x))
    for name, family in (("r1", "vanilla"), ("r2", "vanilla"), ("wgan_gp", "wgan")):
        game = Game(toy.isotropic_generator([0.0, 1.0], "float64"), d, family=family)
        m = methods.get(name, gamma=1.0)
        batch = {"real": tf.ones([3, 2], tf.float64), "z": tf.zeros([3, 2], tf.float64)}
        batch = dict(batch, **m.sample_inputs(batch, tf.constant([0, 1])))
        out = m.directions(game, game.params(), game.state(), batch)
        assert float(out.state.d[0]) == 2.0, name    # one call on the real batch, one on the fake batch


def test_the_names_listed_without_tensorflow_are_the_registered_methods():
    """jare_tf.methods lists its built-in names before importing any method module (so CLIs refuse a misspelt
    --method before TensorFlow loads); once loaded, the registry holds exactly those names."""
    listed = methods.names()
    methods.method_class("gan")                 # the first use of the package's API registers every method
    assert listed == sorted(methods.BUILT_IN) == base.names()
