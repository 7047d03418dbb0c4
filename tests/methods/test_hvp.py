"""Forward-over-reverse and reverse-over-reverse Hessian–vector products give the same update (float64).

The two modes share no second-order code: reverse differentiates the recorded first-order gradients against
the vector, forward pushes the vector as a tangent through a fresh forward and backward pass of the loss. Their
agreement, together with the finite-difference checks of reverse mode (test_second_order_gradients.py), pins
both down.
"""

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods
from jare_tf.analysis import jacobian
from jare_tf.methods import base, gradient_norms
from tests.conftest import small_mlp_game

GAMMA = 0.7
RTOL = 1e-10
LOSSES = [("minimax", "same"), ("non_saturating", "same"), ("non_saturating", "minimax")]


def flat(players):
    return np.concatenate([np.ravel(t) for t in list(players.g) + list(players.d)])


def assert_same(a, b, what):
    a, b = flat(a), flat(b)
    scale = np.max(np.abs(a))
    assert scale > 1e-3, f"{what}: directions ~0, the comparison would be vacuous"
    assert np.max(np.abs(a - b)) <= RTOL * scale, f"{what}: {np.max(np.abs(a - b)) / scale:.3g}"


def directions(name, hvp, game, batch, reducer=base.LOCAL, gamma=GAMMA):
    method = methods.get(name, gamma=gamma, hvp=hvp)
    return method.directions(game, game.params(), game.state(), batch, reducer=reducer)


@pytest.mark.parametrize("name", ["jare", "conopt"])
@pytest.mark.parametrize("losses", LOSSES)
def test_forward_and_reverse_products_give_the_same_directions(name, losses):
    game, batch = small_mlp_game(seed=5, generator_loss=losses[0], regularizer_generator_loss=losses[1])
    reverse = directions(name, "reverse", game, batch)
    forward = directions(name, "forward", game, batch)
    assert_same(reverse.updates, forward.updates, f"{name} {losses}")
    # The regularised part itself is non-trivial: directions differ from the plain gradients.
    plain = methods.get("gan").directions(game, game.params(), game.state(), batch).updates
    assert np.max(np.abs(flat(reverse.updates) - flat(plain))) > 1e-3
    assert reverse.scalars.keys() == forward.scalars.keys()
    for key in reverse.scalars:
        np.testing.assert_allclose(forward.scalars[key].numpy(), reverse.scalars[key].numpy(), rtol=1e-12)


class Shifted(base.VectorReducer):
    """A stand-in for the all-reduced vector: another vector than the replica's own gradient (here 1.5·g + c,
    under stop_gradient as under tf.distribute)."""

    def global_mean(self, tensors):
        return [tf.stop_gradient(1.5 * t + 0.01 * tf.ones_like(t)) for t in tensors]


@pytest.mark.parametrize("name", ["jare", "conopt"])
def test_both_modes_take_the_product_against_the_reducers_vector(name):
    game, batch = small_mlp_game(seed=6, generator_loss="non_saturating")
    reducer = Shifted()
    reverse = directions(name, "reverse", game, batch, reducer)
    forward = directions(name, "forward", game, batch, reducer)
    assert_same(reverse.updates, forward.updates, f"{name} with a reducer")
    local = directions(name, "reverse", game, batch)
    assert np.max(np.abs(flat(reverse.updates) - flat(local.updates))) > 1e-3   # the reducer's vector is used


def test_forward_mode_keeps_the_exact_jacobian_of_the_directions():
    """On one device the vector is the gradient itself, not a constant: the Jacobian of the directions (what
    jare_tf.analysis studies) contains the third-order terms, and both modes give the same one."""
    game, batch = small_mlp_game(seed=8, generator_loss="non_saturating")
    rev = jacobian.vector_field_jacobian(methods.get("jare", gamma=GAMMA, hvp="reverse"), game, batch)
    fwd = jacobian.vector_field_jacobian(methods.get("jare", gamma=GAMMA, hvp="forward"), game, batch)
    np.testing.assert_allclose(fwd, rev, rtol=0, atol=RTOL * np.max(np.abs(rev)))
    plain = jacobian.vector_field_jacobian(methods.get("gan"), game, batch)
    assert np.max(np.abs(rev - plain)) > 1e-3


def test_the_products_agree_inside_a_tf_function_in_float32():
    """What training runs: float32, inside tf.function (where unused work is pruned)."""
    import keras
    from jare_tf.models import toy
    from jare_tf.games import Game
    keras.utils.set_random_seed(3)
    game = Game(toy.mlp(3, [8], 2, name="generator", activation="tanh"),
                toy.mlp(2, [8], 1, name="discriminator", activation="tanh"), generator_loss="non_saturating")
    rng = np.random.default_rng(3)
    batch = {"real": tf.constant(rng.standard_normal((16, 2)), tf.float32),
             "z": tf.constant(rng.standard_normal((16, 3)), tf.float32)}
    for name in ("jare", "conopt"):
        out = {}
        for hvp in gradient_norms.HVP_MODES:
            method = methods.get(name, gamma=GAMMA, hvp=hvp)
            fn = tf.function(lambda b, m=method: m.directions(game, game.params(), game.state(), b).updates)
            out[hvp] = fn(batch)
        a, b = flat(out["reverse"]), flat(out["forward"])
        assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(a)), name


def test_an_unknown_mode_is_rejected_with_the_valid_ones():
    with pytest.raises(ValueError, match="choose one of reverse, forward"):
        methods.get("jare", gamma=1.0, hvp="backward")
    with pytest.raises(ValueError, match="choose one of reverse, forward"):
        methods.get("conopt", gamma=1.0, hvp="")
    assert methods.get("jare").hvp == gradient_norms.DEFAULT_HVP
