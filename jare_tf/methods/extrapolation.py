"""Adversarial extrapolation, the first-order stand-in for JARE proposed in Sec. 8 of the JARE paper (eq. 13–14).

Stage 1 (look-ahead): each player predicts the *other* player's next move from the current minibatch,

    φ^{k+½} = φ − s·∇_φ L_G^reg(φ, θ)        θ^{k+½} = θ − s·∇_θ L_D(φ, θ)      (= θ + s∇_θ f),

Stage 2 (update), applied by the players' optimizers:

    u_φ = ∇_φ L_G(φ, θ^{k+½}),              u_θ = ∇_θ L_D(φ^{k+½}, θ).

For the zero-sum loss (L_G = f), a first-order Taylor expansion of these partial gradients at the look-ahead
points gives u_φ ≈ g_φ + s(∂g_θ/∂φ)ᵀg_θ and u_θ ≈ g_θ + s(∂g_φ/∂θ)ᵀg_φ: JARE's directions with γ = s. Eq. (14)
as printed extrapolates by s = γ/2, which with eq. (13)'s partial gradients makes the method JARE at γ/2: the
paper's Taylor argument instead differentiates f(φ, θ^{k+½}(φ)) as a whole, whose total derivative counts the
cross term twice. This implementation extrapolates by s = γ so that `--method=extrapolation --gamma=G` matches
`--method=jare --gamma=G` to first order; in particular the two have the same Jacobian at an equilibrium (tested
on the isotropic example). With the non-saturating generator loss the match is only approximate on both sides:
∇_φ L_G^NS has other cross derivatives than ∇_φ f, which changes the generator term, and the discriminator term
matches only when `regularizer_generator_loss="minimax"`. Costs three forward/backward passes and no double backprop.

The look-ahead uses the global gradient (`VectorReducer.global_mean`), so under data parallelism every replica
extrapolates to the same point. Layer state is taken from the first pass only.
"""

from jare_tf.games.game import Players
from jare_tf.methods import base


@base.register("extrapolation")
class AdversarialExtrapolation(base.Method):
    def directions(self, game, params, state, batch, stage=base.SIMULTANEOUS[0], reducer=base.LOCAL):
        self.check_game(game)
        # Stage 1: look-ahead points from the current minibatch.
        now = base.first_order(game, params, state, batch)
        phi_half = base.axpy(-self.gamma, reducer.global_mean(now.grad_g_reg), params.g)
        theta_half = base.axpy(-self.gamma, reducer.global_mean(now.grad_d), params.d)
        # Stage 2: each player's gradient where the other player is predicted to be.
        u_g = base.first_order(game, Players(params.g, theta_half), state, batch, players=("g",)).grad_g
        u_d = base.first_order(game, Players(phi_half, params.d), state, batch, players=("d",)).grad_d
        return base.Directions(Players(u_g, u_d), now.state, now.scalars)
