"""Every second-order regulariser gradient against central finite differences of the regulariser (float64).

The regulariser values are computed here from first-order gradients only (one GradientTape, no double
backprop), independently of the method code; their finite-difference gradients must equal the
double-backprop terms each method adds to its directions: (u − g) / γ.
"""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.games import Players
from tests.conftest import small_mlp_game

GAMMA = 0.7
STEP = 1e-5
TOL = 1e-5


def plain_gradients(game, params, batch):
    """(L_D, L_G, L_G^reg) gradients written out directly (stateless calls, one tape)."""
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(params.g) + list(params.d))
        x_fake, _ = game.generate(params.g, batch["z"], [])
        d_real, _ = game.discriminate(params.d, batch["real"], [])
        d_fake, _ = game.discriminate(params.d, x_fake, [])
        l_d = game.discriminator_loss(d_real, d_fake)
        l_g, l_g_reg = game.generator_losses(d_real, d_fake)
    return tape.gradient(l_d, params.d), tape.gradient(l_g, params.g), tape.gradient(l_g_reg, params.g)


def half_sq(ts):
    return 0.5 * sum(float(tf.reduce_sum(t * t)) for t in ts)


def input_gradient_penalty(game, params, batch, which):
    x = batch["real"] if which == "real" else game.generate(params.g, batch["z"], [])[0]
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits, _ = game.discriminate(params.d, x, [])
    grad = tape.gradient(logits, x).numpy()
    return 0.5 * GAMMA * np.mean(np.sum(grad ** 2, axis=1))


def wgan_gp_penalty(game, params, batch, alpha):
    x_fake = game.generate(params.g, batch["z"], [])[0]
    x_hat = alpha[:, None] * batch["real"] + (1 - alpha[:, None]) * x_fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        logits, _ = game.discriminate(params.d, x_hat, [])
    grad = tape.gradient(logits, x_hat).numpy()
    norm = np.sqrt(np.sum(grad ** 2, axis=1) + 1e-12)
    return 0.5 * GAMMA * np.mean((norm - 1.0) ** 2)


REGULARISERS = {
    # name: (method, regulariser value R(params), which players the term enters)
    "jare": ("jare", lambda game, p, b: (half_sq(plain_gradients(game, p, b)[0]),
                                          half_sq(plain_gradients(game, p, b)[2])), ("g", "d")),
    "conopt": ("conopt", lambda game, p, b: half_sq(plain_gradients(game, p, b)[0])
               + half_sq(plain_gradients(game, p, b)[2]), ("g", "d")),
    "gen_only": ("gen_only", lambda game, p, b: half_sq(plain_gradients(game, p, b)[0]), ("g",)),
    "disc_only": ("disc_only", lambda game, p, b: half_sq(plain_gradients(game, p, b)[2]), ("d",)),
    "r1": ("r1", lambda game, p, b: input_gradient_penalty(game, p, b, "real") / GAMMA, ("d",)),
    "r2": ("r2", lambda game, p, b: input_gradient_penalty(game, p, b, "fake") / GAMMA, ("d",)),
}


def finite_difference(fn, params: Players, player: str):
    """Central differences of the scalar fn(params) w.r.t. every entry of one player's parameters."""
    out = []
    group = list(getattr(params, player))
    for k, t in enumerate(group):
        base = t.numpy()
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            values = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[idx] += sign * STEP
                group_shifted = group[:k] + [tf.constant(shifted)] + group[k + 1:]
                p = params._replace(**{player: group_shifted})
                values.append(fn(p))
            grad[idx] = (values[0] - values[1]) / (2 * STEP)
        out.append(grad)
    return out


def assert_lists_close(actual, expected, what):
    a = np.concatenate([np.ravel(x) for x in actual])
    e = np.concatenate([np.ravel(x) for x in expected])
    assert np.max(np.abs(a - e)) <= TOL * max(1.0, np.max(np.abs(e))), f"{what}: {np.max(np.abs(a - e))}"
    assert np.max(np.abs(e)) > 1e-3, f"{what}: the reference gradient is ~0, the test would be vacuous"


@pytest.mark.parametrize("name", sorted(REGULARISERS))
@pytest.mark.parametrize("losses", [("minimax", "same"), ("non_saturating", "same"),
                                    ("non_saturating", "minimax")])
def test_regulariser_gradient_matches_finite_differences(name, losses):
    game, batch = small_mlp_game(seed=1, generator_loss=losses[0], regularizer_generator_loss=losses[1])
    params = game.params()
    method_name, reg_value, players = REGULARISERS[name]
    u = methods.get(method_name, gamma=GAMMA).directions(game, params, game.state(), batch).updates
    g = methods.get("gan").directions(game, params, game.state(), batch).updates
    for player in players:
        if name == "jare":
            # R_G = ½‖g_θ‖² moves φ, R_D = ½‖g_φ^reg‖² moves θ.
            fn = (lambda p: reg_value(game, p, batch)[0]) if player == "g" else (
                lambda p: reg_value(game, p, batch)[1])
        else:
            fn = lambda p: reg_value(game, p, batch)  # noqa: E731
        expected = finite_difference(fn, params, player)
        actual = [(ui - gi).numpy() / GAMMA for ui, gi in zip(getattr(u, player), getattr(g, player))]
        assert_lists_close(actual, expected, f"{name} {losses} ∇_{player}")
    for player in {"g", "d"} - set(players):
        np.testing.assert_array_equal(
            np.concatenate([np.ravel(x) for x in getattr(u, player)]),
            np.concatenate([np.ravel(x) for x in getattr(g, player)]))


def test_wgan_gp_gradient_matches_finite_differences():
    game, batch = small_mlp_game(seed=2, family="wgan")
    method = methods.get("wgan_gp", gamma=GAMMA)
    batch = dict(batch, **method.sample_inputs(batch, tf.constant([4, 2])))
    alpha = batch["alpha"].numpy()
    assert np.all((alpha >= 0) & (alpha <= 1)) and alpha.shape == (6,)
    params = game.params()
    u = method.directions(game, params, game.state(), batch).updates
    g = methods.get("gan").directions(game, params, game.state(), batch).updates
    expected = finite_difference(lambda p: wgan_gp_penalty(game, p, batch, alpha), params, "d")
    assert_lists_close([(a - b).numpy() for a, b in zip(u.d, g.d)], expected, "wgan_gp ∇_θ")
