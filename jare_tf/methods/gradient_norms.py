"""Shared maths of the gradient-norm regularisers (JARE, ConOpt, generator-only, discriminator-only).

All four regularise with squared norms of the players' own gradients, taken on the same minibatch as the
plain gradients (one forward pass, reference_spec G.9) and differentiated by double backprop:

    R_G = ½‖g_θ‖²  differentiated w.r.t. φ:  ∇_φ R_G = (∂g_θ/∂φ)ᵀ g_θ         (JARE's and N&K's generator term)
    R_D = ½‖g_φ‖²  differentiated w.r.t. θ:  ∇_θ R_D = (∂g_φ/∂θ)ᵀ g_φ         (JARE's discriminator term)
    R   = ½(‖g_θ‖² + ‖g_φ‖²) w.r.t. both:   ∇R = (∂g_θ/∂w)ᵀ g_θ + (∂g_φ/∂w)ᵀ g_φ   (ConOpt)

g_φ here is the gradient of the generator loss chosen by `Game.regularizer_generator_loss`; ‖g_θ‖ = ‖∇_θ f‖
for every generator loss. Each product is a vector–Jacobian product against the vector returned by the
`VectorReducer` (the replica's own gradient on one device, the all-reduced global gradient under
`tf.distribute`), so the regulariser is that of the global batch.
"""

from typing import Dict, List, NamedTuple, Optional

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base

TERMS = ("generator", "discriminator", "both", "consensus")


class Terms(NamedTuple):
    first: base.FirstOrder
    grad_g: Optional[List[tf.Tensor]]   # ∇_φ of the requested regulariser(s)
    grad_d: Optional[List[tf.Tensor]]   # ∇_θ of the requested regulariser(s)
    scalars: Dict[str, tf.Tensor]


def regulariser_gradients(game, params: Players, state: Players, batch, reducer: base.VectorReducer,
                          term: str) -> Terms:
    """Plain gradients plus the gradient of one regulariser.

    term: "generator" (∇_φ R_G only), "discriminator" (∇_θ R_D only), "both" (∇_φ R_G and ∇_θ R_D: JARE) or
      "consensus" (∇_φ R and ∇_θ R: ConOpt).
    """
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(params.g) + list(params.d))
        fo = base.first_order(game, params, state, batch)
    v_d = reducer.global_mean(fo.grad_d)
    v_g = reducer.global_mean(fo.grad_g_reg)
    scalars = dict(fo.scalars)
    r_g, r_d = base.half_sq_norm(v_d), base.half_sq_norm(v_g)
    grad_g = grad_d = None
    if term == "consensus":
        both = base.vjp(tape, list(fo.grad_d) + list(fo.grad_g_reg), list(params.g) + list(params.d),
                        list(v_d) + list(v_g))
        grad_g, grad_d = both[:len(params.g)], both[len(params.g):]
        scalars["reg/consensus"] = r_g + r_d
    else:
        if term in ("generator", "both"):
            grad_g = base.vjp(tape, fo.grad_d, params.g, v_d)
            scalars["reg/generator"] = r_g
        if term in ("discriminator", "both"):
            grad_d = base.vjp(tape, fo.grad_g_reg, params.d, v_g)
            scalars["reg/discriminator"] = r_d
    del tape
    return Terms(fo, grad_g, grad_d, scalars)


def regularised_directions(method: base.Method, game, params, state, batch, reducer, term: str):
    """u = g + γ·∇(regulariser) for the players the term regularises; the other player keeps g."""
    method.check_game(game)
    t = regulariser_gradients(game, params, state, batch, reducer, term)
    u_g, u_d = t.first.grad_g, t.first.grad_d
    if t.grad_g is not None:
        u_g = base.axpy(method.gamma, t.grad_g, u_g)
    if t.grad_d is not None:
        u_d = base.axpy(method.gamma, t.grad_d, u_d)
    return base.Directions(Players(u_g, u_d), t.first.state, t.scalars)
