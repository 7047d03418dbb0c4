"""Lazy regularisation (methods/lazy.py): which iterations are regularised and with what weight, k = 1 being the
method itself, the k-iteration operator's Jacobian against its factors and the Dirac-GAN closed form, and an
exact resume of a lazy image run stopped between two regularised iterations."""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods, settings
from jare_tf.analysis import closed_forms, jacobian, problems, spectrum
from jare_tf.methods import lazy

LAZY = ("jare", "conopt", "gen_only", "disc_only", "r1", "r2", "wgan_gp")


def game_and_batch(name):
    family = "wgan" if name == "wgan_gp" else "vanilla"
    game, batch = problems.isotropic(3.0, 0.3, dim=2, family=family)
    # Away from the equilibrium, so that every regulariser is non-zero.
    params = game.params()
    params = type(params)(
        [p + 0.3 * tf.random.stateless_normal(p.shape, [1, i], dtype=p.dtype) for i, p in enumerate(params.g)],
        [p - 0.2 * tf.random.stateless_normal(p.shape, [2, i], dtype=p.dtype) for i, p in enumerate(params.d)])
    batch = problems.with_expected_inputs(methods.get(name), batch)
    return game, params, batch


@pytest.mark.parametrize("name", LAZY)
def test_iterations_divisible_by_k_get_k_gamma_and_the_others_plain_directions(name):
    """Traced as training traces it (tf.function, tf.cond on the iteration input): iteration t of every=4 gives
    the method's directions with weight 4γ when t ≡ 0 (mod 4) and SimGD's directions otherwise."""
    game, params, batch = game_and_batch(name)
    gamma = 0.7
    lazy_m = methods.get(name, gamma=gamma, every=4)
    full = methods.get(name, gamma=4 * gamma)
    plain = methods.get("gan")

    @tf.function
    def directions(t):
        b = dict(batch, **lazy_m.iteration_inputs(batch, t))
        u = lazy_m.directions(game, params, game.state(), b).updates
        return [tf.concat([tf.reshape(x, [-1]) for x in group], 0) for group in u]

    def flat(m):
        u = m.directions(game, params, game.state(), batch).updates
        return [np.concatenate([np.ravel(x) for x in group]) for group in u]

    regularised, unregularised = flat(full), flat(plain)
    assert not all(np.allclose(a, b) for a, b in zip(regularised, unregularised))   # the regulariser acts
    for t in range(9):
        want = regularised if t % 4 == 0 else unregularised
        for got, expected in zip(directions(tf.constant(t)), want):
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-15, err_msg=f"{name} t={t}")


@pytest.mark.parametrize("name", LAZY)
def test_spectra_of_a_lazy_method_are_of_its_field_averaged_over_the_cycle(name):
    """The Jacobian the spectrum tools analyse for every=3 (matrix-free, as training logs it and jare-spectrum
    --workdir reads it) is the mean of the three iterations' field Jacobians at that point, whichever iteration's
    minibatch is given, and so is the exact method's (wgan_gp with n_d = 1 here: a single stage)."""
    from jare_tf.analysis import krylov
    game, params, batch = game_and_batch(name)
    lazy_m = methods.get(name, gamma=0.7, every=3)
    per_iteration = [jacobian.vector_field_jacobian(lazy_m, game, dict(batch, **lazy_m.iteration_inputs(batch, t)),
                                                    params=params) for t in range(3)]
    assert not np.allclose(per_iteration[0], per_iteration[1])        # the regularised iteration differs
    mean = np.mean(per_iteration, axis=0)
    for t in (0, 1, 5):
        b = dict(batch, **lazy_m.iteration_inputs(batch, t))
        analysed = krylov.AppliedUpdate(lazy_m, game, b, params=params).dense()
        np.testing.assert_allclose(analysed, mean, rtol=0, atol=1e-12 * np.abs(mean).max())
        exact = jacobian.vector_field_jacobian(lazy.cycle_average(lazy_m), game, b, params=params)
        np.testing.assert_allclose(exact, mean, rtol=0, atol=1e-12 * np.abs(mean).max())
    assert lazy_m.every == 3 and lazy.cycle_average(methods.get(name)).every == 1


def test_the_toy_trainer_logs_the_cycle_averaged_spectrum_of_a_lazy_method():
    """Dirac-GAN, jare every=3, at the same parameters: the dense spectrum the toy trainer logs is the same on a
    regularised and a plain iteration, and is exact JARE's."""
    from jare_tf.training.toy_trainer import ToyRun
    runs = {}
    for every in (3, 1):
        config = settings.load("dirac")
        config.method.options.jare.every = every
        runs[every] = ToyRun(config, "jare")
    regularised, plain, exact = runs[3].spectrum(0), runs[3].spectrum(1), runs[1].spectrum(1)
    for got in (regularised, plain):
        np.testing.assert_allclose(np.sort_complex(got.eigenvalues), np.sort_complex(exact.eigenvalues),
                                   rtol=1e-6, atol=1e-9)
    assert not np.allclose(np.sort_complex(exact.eigenvalues),            # exact JARE is not SimGD here
                           np.sort_complex(ToyRun(settings.load("dirac"), "gan").spectrum(1).eigenvalues))


@pytest.mark.parametrize("name", LAZY)
def test_every_1_is_the_method_itself(name):
    """every=1 adds no input to the minibatch (so training sees the same batches) and gives the same directions."""
    game, params, batch = game_and_batch(name)
    one, default = methods.get(name, gamma=0.7, every=1), methods.get(name, gamma=0.7)
    assert one.iteration_inputs(batch, 5) == {}
    a = one.directions(game, params, game.state(), batch).updates
    b = default.directions(game, params, game.state(), batch).updates
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_bad_every_values_and_a_missing_iteration_are_refused():
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="every must be an integer >= 1"):
            methods.get("jare", gamma=1.0, every=bad)
    game, params, batch = game_and_batch("jare")
    with pytest.raises(ValueError, match="needs the iteration number"):
        methods.get("jare", gamma=1.0, every=3).directions(game, params, game.state(), batch)


@pytest.mark.parametrize("name", ["jare", "conopt", "r1"])
def test_lazy_operator_is_the_product_of_its_plain_and_regularised_steps(name):
    """At an equilibrium F = F_reg ∘ F_plainᵏ⁻¹ has ∂F = (I + ηA_reg(kγ)) (I + ηA_plain)ᵏ⁻¹, A the field
    Jacobians; and k = 1 is today's F_h = I + ηA."""
    problem = problems.dirac if name == "r1" else (lambda: problems.isotropic(4.0, 0.04, dim=2))
    game, batch = problem()
    eta, gamma, k = 0.05, 1.3, 3
    a_plain = jacobian.vector_field_jacobian(methods.get("gan"), game, batch)
    a_reg = jacobian.vector_field_jacobian(methods.get(name, gamma=k * gamma), game, batch)
    eye = np.eye(a_plain.shape[0])
    f = jacobian.lazy_operator_jacobian(methods.get(name, gamma=gamma, every=k), game, batch, eta)
    np.testing.assert_allclose(f, (eye + eta * a_reg) @ np.linalg.matrix_power(eye + eta * a_plain, k - 1),
                               atol=1e-12)
    f1 = jacobian.lazy_operator_jacobian(methods.get(name, gamma=gamma, every=1), game, batch, eta)
    a = jacobian.vector_field_jacobian(methods.get(name, gamma=gamma), game, batch)
    np.testing.assert_allclose(f1, eye + eta * a, atol=1e-13)
    np.testing.assert_allclose(f1, jacobian.update_operator_jacobian(methods.get(name, gamma=gamma), game, batch,
                                                                    eta), atol=0)


@pytest.mark.parametrize("method", ["jare", "conopt"])
@pytest.mark.parametrize("every, step, gamma", [(1, 0.2, 1.0), (4, 0.2, 1.0), (8, 0.1, 3.0), (16, 0.05, 0.5),
                                                (4, 0.5, 9.0)])
def test_dirac_lazy_rate_equals_the_closed_form(method, every, step, gamma):
    game, batch = problems.dirac()
    f = jacobian.lazy_operator_jacobian(methods.get(method, gamma=gamma, every=every), game, batch, step)
    rate = spectrum.spectral_radius(f) ** (1.0 / every)
    assert rate == pytest.approx(closed_forms.dirac_lazy_jare_rate(gamma, every, step), rel=1e-12)


def test_dirac_stable_window_of_gamma_matches_the_rate():
    """Inside the closed-form window of γ the rate is below 1, outside it above; for large k·η² no γ works."""
    for every, step in ((1, 0.2), (4, 0.2), (16, 0.1)):
        low, high = closed_forms.dirac_lazy_jare_stable_gammas(every, step)
        for g, inside in ((0.5 * low, False), (1.01 * low, True), (0.99 * high, True), (1.01 * high, False)):
            assert (closed_forms.dirac_lazy_jare_rate(g, every, step) < 1) == inside, (every, step, g)
    assert closed_forms.dirac_lazy_jare_stable_gammas(400, 0.5) is None


def test_a_lazy_image_run_resumes_exactly_from_a_step_between_regularised_iterations(tmp_path):
    """JARE every=4 on setting C: stopped at step 2 (between the regularised iterations 0 and 4) and resumed to
    6, it ends with the parameters of the straight run to 6, bit for bit."""
    from jare_tf.training.image_trainer import ImageRun

    def config(num_steps):
        c = settings.load("C")
        c.fake_data, c.batch_size, c.steps_per_execution, c.num_steps = True, 2, 1, num_steps
        c.log_every, c.sample_every, c.checkpoint_every = 1, 0, 100
        c.method.options.jare.every = 4
        return c

    def final(workdir):
        """Every saved tensor of the newest checkpoint (models, optimizer slots, counters, the iteration)."""
        reader = tf.train.load_checkpoint(str(workdir / "checkpoints"))
        return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()
                if n != "_CHECKPOINTABLE_OBJECT_GRAPH" and not n.startswith(("save_counter", "run_config", "metrics"))}

    quiet = dict(log=lambda line: None, verbose=0)
    ImageRun(config(2), "jare").train(str(tmp_path / "stopped"), **quiet)
    ImageRun(config(6), "jare").train(str(tmp_path / "stopped"), **quiet)
    ImageRun(config(6), "jare").train(str(tmp_path / "straight"), **quiet)
    resumed, straight = final(tmp_path / "stopped"), final(tmp_path / "straight")
    assert straight and resumed.keys() == straight.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_lazy_cond_keeps_none_for_a_player_that_does_not_move():
    """WGAN-GP with n_d = 2: its discriminator stages give no generator direction in either branch."""
    game, params, batch = game_and_batch("wgan_gp")
    m = methods.get("wgan_gp", gamma=2.0, every=2, n_d=2)
    stage = m.stages()[0]
    assert stage.players == ("d",)

    @tf.function
    def directions(t):
        d = m.directions(game, params, game.state(), dict(batch, **m.iteration_inputs(batch, t)), stage)
        assert d.updates.g is None
        return d.updates.d, d.scalars

    _, reg_scalars = directions(tf.constant(0))
    _, plain_scalars = directions(tf.constant(1))
    assert set(reg_scalars) == set(plain_scalars) and float(plain_scalars["reg/d_penalty"]) == 0.0
    assert float(reg_scalars["reg/d_penalty"]) > 0.0
    assert lazy.ITERATION == "iteration"
