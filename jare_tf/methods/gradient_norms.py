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

Two ways to take the second-order products (`hvp`, a constructor option of `jare`, `conopt`, `gen_only` and
`disc_only`):

* "reverse" (reverse-over-reverse, the default): the first-order pass runs inside an outer tape and each term
  is a `tape.gradient` of the recorded first-order gradients against the vector. Inside a `tf.function`
  only the work that reaches the directions runs (for JARE's generator term the real branch of g_θ, which does
  not depend on φ, is pruned), and the first-order pass is shared with the plain gradients.
* "forward" (forward-over-reverse, `tf.autodiff.ForwardAccumulator`): by the symmetry of a loss' Hessian,
  (∂g_θ/∂w)ᵀv = ∇²_{wθ}L_D·v is the derivative along the θ-tangent v of ∇_w L_D, and (∂g_φ/∂w)ᵀv the
  derivative along the φ-tangent v of ∇_w L_G^reg. Each product is one more forward and backward pass with
  tangents, after a plain first-order pass that gives the vectors.

Both give the same directions (tests/methods/test_hvp.py). Reverse is the default because it is the faster on
the machine measured (docs/results/speed.md, CPU: forward mode costs 1.2× reverse for JARE and 1.3× for ConOpt
on settings C and E). Reverse mode reuses the recorded pass and the runtime prunes what a term does not reach;
forward mode's tangent passes add a tangent forward and a tangent backward (Grappler merges their primal
recomputation with the first-order pass): 2.9× a plain step's convolution FLOPs for JARE against 2.2×.
"""

import contextlib
from typing import ClassVar, Dict, List, NamedTuple, Optional, Sequence

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base, lazy

TERMS = ("generator", "discriminator", "both", "consensus")
#: How the Hessian–vector products of the regularisers are taken; the default is the faster one measured.
HVP_MODES = ("reverse", "forward")
DEFAULT_HVP = "reverse"


def check_hvp(hvp: str) -> str:
    if hvp not in HVP_MODES:
        raise ValueError(f"Unknown hvp={hvp!r}; choose one of {', '.join(HVP_MODES)} (reverse-over-reverse or "
                         f"forward-over-reverse Hessian-vector products).")
    return hvp


class Terms(NamedTuple):
    first: base.FirstOrder
    grad_g: Optional[List[tf.Tensor]]   # ∇_φ of the requested regulariser(s)
    grad_d: Optional[List[tf.Tensor]]   # ∇_θ of the requested regulariser(s)
    scalars: Dict[str, tf.Tensor]


def regulariser_gradients(game, params: Players, state: Players, batch, reducer: base.VectorReducer,
                          term: str, hvp: str = DEFAULT_HVP, when: Optional[tf.Tensor] = None) -> Terms:
    """Plain gradients plus the gradient of one regulariser.

    term: "generator" (∇_φ R_G only), "discriminator" (∇_θ R_D only), "both" (∇_φ R_G and ∇_θ R_D: JARE) or
      "consensus" (∇_φ R and ∇_θ R: ConOpt).
    hvp: "reverse" or "forward" (see the module docstring); the results agree.
    when: lazy regularisation (methods/lazy.py): a boolean tensor; the second-order products are taken inside a
      tf.cond on it and are zero where it is false. The first-order pass, the all-reduced vectors v and the
      regulariser values stay outside the cond, so they are computed on every iteration and no all-reduce sits
      inside a branch (MirroredStrategy's merge_call cannot run there).
    """
    reverse = check_hvp(hvp) == "reverse"
    if not reverse:
        ctx = tf.distribute.get_replica_context()
        check_forward_mode(game, ctx.num_replicas_in_sync if ctx is not None else 1)
    # Reverse mode differentiates the recorded first-order pass; forward mode needs no record of it.
    with tf.GradientTape(persistent=True) if reverse else contextlib.nullcontext() as tape:
        if reverse:
            tape.watch(list(params.g) + list(params.d))
        fo = base.first_order(game, params, state, batch)
    v_d = reducer.global_mean(fo.grad_d)
    v_g = reducer.global_mean(fo.grad_g_reg)
    scalars = dict(fo.scalars)
    r_g, r_d = base.half_sq_norm(v_d), base.half_sq_norm(v_g)
    if term == "consensus":
        scalars["reg/consensus"] = r_g + r_d
    if term in ("generator", "both"):
        scalars["reg/generator"] = r_g
    if term in ("discriminator", "both"):
        scalars["reg/discriminator"] = r_d

    def second_order():
        """(∇_φ R, ∇_θ R) of the term; None for a player the term leaves alone."""
        if term == "consensus":
            if reverse:
                both = base.vjp(tape, list(fo.grad_d) + list(fo.grad_g_reg), list(params.g) + list(params.d),
                                list(v_d) + list(v_g))
                return both[:len(params.g)], both[len(params.g):]
            # ∇R = (∂g_θ/∂w)ᵀv_d + (∂g_φ/∂w)ᵀv_g: the θ-tangent derivative of ∇_w L_D plus the φ-tangent one
            # of ∇_w L_G^reg.
            from_d = loss_hvp(game, params, state, batch, "d", "d", v_d, ("g", "d"))
            from_g = loss_hvp(game, params, state, batch, "g", "g", v_g, ("g", "d"))
            return [a + b for a, b in zip(from_d[0], from_g[0])], [a + b for a, b in zip(from_d[1], from_g[1])]
        grad_g = grad_d = None
        if term in ("generator", "both"):
            grad_g = (base.vjp(tape, fo.grad_d, params.g, v_d) if reverse
                      else loss_hvp(game, params, state, batch, "d", "d", v_d, ("g",))[0])
        if term in ("discriminator", "both"):
            grad_d = (base.vjp(tape, fo.grad_g_reg, params.d, v_g) if reverse
                      else loss_hvp(game, params, state, batch, "g", "g", v_g, ("d",))[0])
        return grad_g, grad_d

    if when is None:
        grad_g, grad_d = second_order()
    else:
        layout = (term != "discriminator", term != "generator")     # which players the term regularises
        grad_g, grad_d = _cond_or_zeros(when, second_order, params, layout)
    return Terms(fo, grad_g, grad_d, scalars)


def _cond_or_zeros(when, second_order, params: Players, layout):
    """second_order() where `when` holds, zeros of its shapes elsewhere, for the players `layout` marks (a
    tf.cond; executing eagerly only the branch taken runs)."""
    def taken():
        return [t for o in second_order() if o is not None for t in o]

    def skipped():
        return [tf.zeros_like(w) for present, group in zip(layout, params) if present for w in group]

    if tf.executing_eagerly():
        flat = taken() if bool(when) else skipped()
    else:
        flat = tf.cond(when, taken, skipped)
    flat, out = list(flat), []
    for present, group in zip(layout, params):
        out.append([flat.pop(0) for _ in group] if present else None)
    return tuple(out)


def _losses(game, params: Players, state: Players, batch):
    """(L_D, L_G^reg) from the forward pass `base.first_order` makes (same calls, same order; its layer-state
    updates are discarded: the first-order pass already returned them)."""
    x_fake, _ = game.generate(params.g, batch["z"], state.g)
    d_real, d_state = game.discriminate(params.d, batch["real"], state.d)
    d_fake, _ = game.discriminate(params.d, x_fake, d_state)
    _, l_g_reg = game.generator_losses(d_real, d_fake)
    return game.discriminator_loss(d_real, d_fake), l_g_reg


def loss_hvp(game, params: Players, state: Players, batch, loss: str, tangent_player: str,
             tangent: Sequence[tf.Tensor], wrt: Sequence[str]) -> List[List[tf.Tensor]]:
    """Forward-over-reverse: d/dt ∇_w L(params + t·tangent) for the players in `wrt`, where the tangent moves
    only `tangent_player` and L is L_D (loss="d") or L_G^reg (loss="g"). By the symmetry of ∇²L this is
    (∂∇_{tangent_player} L/∂w)ᵀ·tangent, the reverse-over-reverse product.

    Returns one list of tensors per player in `wrt`. Parameters the product does not reach get exact zeros; a
    product that reaches none of them is an error, as in `base.vjp`.
    """
    sources = [t for player in wrt for t in getattr(params, player)]
    with tf.autodiff.ForwardAccumulator(list(getattr(params, tangent_player)), list(tangent)) as acc:
        with tf.GradientTape() as tape:
            tape.watch(sources)
            l_d, l_g_reg = _losses(game, params, state, batch)
        grads = tape.gradient(l_d if loss == "d" else l_g_reg, sources)
    out = [None if g is None else acc.jvp(g) for g in grads]
    if all(o is None for o in out):
        raise ValueError("A second-order term does not depend on any of the parameters it regularises; the "
                         "regulariser would be silently zero.")
    out = [tf.zeros_like(w) if o is None else o for o, w in zip(out, sources)]
    groups, start = [], 0
    for player in wrt:
        n = len(getattr(params, player))
        groups.append(out[start:start + n])
        start += n
    return groups


def check_forward_mode(game, replicas: int) -> None:
    """Refuse hvp='forward' on a game whose forward pass all-reduces across `replicas` > 1 (synchronised batch
    norm). The trainers call it when they build the run, before anything is written to the workdir; the
    regulariser calls it again when it traces, for callers of the Python API."""
    if replicas > 1 and game.syncs_across_replicas():
        raise ValueError("hvp='forward' cannot differentiate through batch statistics synchronised across "
                         "replicas (tf.autodiff.ForwardAccumulator carries no tangent through all_reduce); use "
                         "hvp='reverse', or sync_batch_norm=False.")


def regularised_directions(method: base.Method, game, params, state, batch, reducer, term: str, gamma: float,
                           when: Optional[tf.Tensor] = None):
    """u = g + γ·∇(regulariser) for the players the term regularises (γ = `gamma`: the method's, or k times it
    on a lazy method's regularised iteration, `when` that iteration: see regulariser_gradients); the other
    player keeps g. The method's `hvp` attribute, where it
    has one, picks how the products are taken."""
    method.check_game(game)
    t = regulariser_gradients(game, params, state, batch, reducer, term, getattr(method, "hvp", DEFAULT_HVP), when)
    u_g, u_d = t.first.grad_g, t.first.grad_d
    if t.grad_g is not None:
        u_g = base.axpy(gamma, t.grad_g, u_g)
    if t.grad_d is not None:
        u_d = base.axpy(gamma, t.grad_d, u_d)
    return base.Directions(Players(u_g, u_d), t.first.state, t.scalars)


class GradientNormMethod(lazy.LazyRegularised):
    """A method of the gradient-norm family (jare, conopt, gen_only, disc_only): u = g + γ·∇(its `term`), taken
    as `hvp` says; lazily (every > 1) with the second-order products inside the tf.cond only
    (`regulariser_gradients`)."""

    #: The regulariser's term (see `regulariser_gradients`).
    term: ClassVar[str] = ""

    def __init__(self, gamma: float = 0.0, hvp: str = DEFAULT_HVP, every: int = 1):
        super().__init__(gamma, every)
        self.hvp = check_hvp(hvp)

    def regularised(self, game, params, state, batch, stage, reducer, gamma):
        return regularised_directions(self, game, params, state, batch, reducer, self.term, gamma)

    def lazy_directions(self, game, params, state, batch, stage, reducer, gamma, when):
        return regularised_directions(self, game, params, state, batch, reducer, self.term, gamma, when)
