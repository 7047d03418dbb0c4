"""The Jacobian tools: update operators, projections, size limits, and the spectrum quantities."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.analysis import jacobian, problems, spectrum
from tests.conftest import small_mlp_game


def test_update_operator_of_a_single_stage_method_is_identity_plus_h_a():
    game, batch = small_mlp_game(seed=3)
    m = methods.get("jare", gamma=2.0)
    a = jacobian.vector_field_jacobian(m, game, batch)
    f = jacobian.update_operator_jacobian(m, game, batch, step_size=0.01)
    np.testing.assert_allclose(f, np.eye(a.shape[0]) + 0.01 * a, atol=1e-12)


def test_altgd_operator_is_the_composition_of_its_stages():
    """F_h = F_G ∘ F_D for d_first: ∂F = (I + h A_G)(I + h A_D) with A_G, A_D the SimGD rows of each player."""
    game, batch = problems.isotropic(3.0, 0.3, dim=2)
    h = 0.1
    a = jacobian.vector_field_jacobian(methods.get("gan"), game, batch)
    n = a.shape[0] // 2
    a_g, a_d = np.zeros_like(a), np.zeros_like(a)
    a_g[:n], a_d[n:] = a[:n], a[n:]
    eye = np.eye(2 * n)
    f = jacobian.update_operator_jacobian(methods.get("altgd"), game, batch, h)
    np.testing.assert_allclose(f, (eye + h * a_g) @ (eye + h * a_d), atol=1e-12)
    f = jacobian.update_operator_jacobian(methods.get("altgd", order="g_first", n_d=2), game, batch, h)
    np.testing.assert_allclose(f, (eye + h * a_d) @ (eye + h * a_d) @ (eye + h * a_g), atol=1e-12)


def test_wgan_clipping_enters_the_operator():
    """Clipped coordinates of θ have zero rows in ∂F_h: the projection is part of the update operator."""
    game, batch = problems.dirac(family="wgan")
    params = game.params()._replace(d=[np.full((1, 1), 2.0)])
    f = jacobian.update_operator_jacobian(methods.get("wgan", clip=1.0), game, batch, 0.2, params=params)
    np.testing.assert_allclose(f[1], 0.0)
    assert abs(f[0, 0]) > 0


def test_update_operator_equals_the_training_update_with_per_step_projection():
    """∂F_h from the analysis equals finite differences of what the Updater does (SGD step h, clip after every
    D step), for WGAN with n_d = 2 at a point where clipping is active in the intermediate step."""
    from jare_tf.training import optimizers
    from jare_tf.training.updater import Updater

    game, batch = small_mlp_game(seed=13, family="wgan")
    method, h = methods.get("wgan", clip=0.45, n_d=2), 0.3
    w0 = jacobian.flatten(game.params()).numpy()
    like = game.params()

    def train_map(w):
        for var, value in zip(game.variables().g + game.variables().d,
                              jacobian.unflatten(tf.constant(w), like).g + jacobian.unflatten(tf.constant(w), like).d):
            var.assign(value)
        sgd = {"name": "sgd", "learning_rate": h}
        Updater(method, game, optimizers.for_players(sgd, sgd)).step(lambda k: batch)
        return jacobian.flatten(game.params()).numpy()

    eps = 1e-6
    fd = np.stack([(train_map(w0 + eps * e) - train_map(w0 - eps * e)) / (2 * eps) for e in np.eye(w0.size)],
                  axis=1)
    after_iteration = train_map(w0)
    assert np.sum(np.abs(after_iteration[-(w0.size - 32):]) == 0.45) > 0   # clipping is active
    params = jacobian.unflatten(tf.constant(w0), like)
    f = jacobian.update_operator_jacobian(method, game, batch, h, params=params)
    np.testing.assert_allclose(f, fd, atol=1e-6)


def test_multi_stage_methods_have_no_single_vector_field():
    game, batch = problems.dirac()
    with pytest.raises(ValueError, match="update_operator_jacobian"):
        jacobian.vector_field_jacobian(methods.get("altgd"), game, batch)


def test_dense_jacobian_size_limit(monkeypatch):
    game, batch = small_mlp_game()
    monkeypatch.setattr(jacobian, "MAX_DENSE_PARAMETERS", 10)
    with pytest.raises(ValueError, match="dense Jacobians are limited"):
        jacobian.vector_field_jacobian(methods.get("gan"), game, batch)


def test_spectrum_quantities():
    lam = np.array([-1 + 2j, -1 - 2j, -0.5, -4.0, 0.0])
    s = spectrum.Spectrum(lam, spectrum.phase_factor(lam), spectrum.conditioning_factor(lam),
                          spectrum.max_step_size(lam))
    assert s.zeta == pytest.approx(2.0)
    assert s.tau == pytest.approx(8.0)                  # 4 / 0.5; the zero eigenvalue is excluded
    assert s.eta_max == 0.0                             # the zero eigenvalue: no step contracts it
    assert spectrum.max_step_size(lam[:4]) == pytest.approx(min(2 / 5, 4.0, 0.5))
    unstable = np.array([0.1 + 1j, 0.1 - 1j, -1.0])
    assert spectrum.max_step_size(unstable) == 0.0
    assert spectrum.max_step_size(np.array([-1.0, 0.0])) == 0.0     # a zero eigenvalue is never contracted


def test_infinities_are_json_null():
    s = spectrum.analyse(np.array([[0.0, 0.5], [-0.5, 0.0]]))     # ±i/2: ζ = ∞
    assert math.isinf(s.zeta)
    text = json.dumps(s.to_json(), allow_nan=False)
    assert json.loads(text)["zeta"] is None


def test_instance_noise_inputs_are_per_example_on_a_batch_of_several():
    """The analysis' moment-matched noise is [B, draws, n], as the method reads it: a batch of the same example
    twice gives the one-example Jacobian (it crashed on any batch of more than one example)."""
    method = methods.get("instance_noise", std=0.5)
    game, batch = problems.isotropic(2.0, 0.3, dim=2)
    one = jacobian.vector_field_jacobian(method, game, problems.with_expected_inputs(method, batch))
    doubled = {key: tf.concat([value, value], 0) for key, value in batch.items()}
    two = jacobian.vector_field_jacobian(method, game, problems.with_expected_inputs(method, doubled))
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-13)
