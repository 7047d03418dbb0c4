"""WGAN-GP (Gulrajani et al. 2017), in the form Mescheder et al. 2018 analyse (eq. 97, Lemma C.3):

    R(θ) = (γ/2) E_x̂ (‖∇_x D_θ(x̂)‖ − g0)²,   x̂ = α x_real + (1 − α) x_fake,  α ~ U[0, 1] per example.

The game uses the WGAN loss family. u_θ = g_θ + ∇_θ R, u_φ = g_φ (the penalty only enters the discriminator's
direction). The norm is √(‖∇_x D‖² + ε) with ε inside the root, so the penalty's gradient is finite where
∇_x D = 0. The interpolates need one extra discriminator call, whose layer-state updates are discarded (the
reference implementation of the other methods has no such call). α is a method input drawn statelessly from the
step's seed (`sample_inputs`), so the direction is a pure function of its inputs.

Weight convention: γ/2 as Mescheder et al.; Gulrajani et al.'s λ (10 in their paper) is γ/2 here, so the default
γ = 20 is their λ = 10. The penalty is not differentiable where ∇_x D = 0 (e.g. at the equilibria of the
isotropic example and the Dirac-GAN), so its Jacobian there only reflects ε (Mescheder et al. 2018, Lemma C.3).
"""

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base, lazy


@base.register("wgan_gp")
class WGANGP(lazy.LazyRegularised):
    required_family = "wgan"

    def __init__(self, gamma: float = 20.0, target: float = 1.0, epsilon: float = 1e-12, n_d: int = 1,
                 every: int = 1):
        super().__init__(gamma, every)
        if epsilon <= 0:
            raise ValueError(f"wgan_gp needs epsilon > 0 inside the norm, got {epsilon}.")
        self.target, self.epsilon, self.n_d = float(target), float(epsilon), int(n_d)

    def stages(self):
        return base.discriminator_first(self.n_d)

    def sample_inputs(self, batch, seed):
        real = batch["real"]
        return {"alpha": tf.random.stateless_uniform([tf.shape(real)[0]], seed=seed, dtype=real.dtype)}

    def _penalty(self, p: base.Pass, gamma: float) -> tf.Tensor:
        alpha = p.batch["alpha"]
        alpha = tf.reshape(alpha, [-1] + [1] * (p.x_real.shape.rank - 1))
        x_hat = alpha * p.x_real + (1.0 - alpha) * p.x_fake
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            logits = p.discriminate_extra(x_hat)
        grad = tape.gradient(logits, x_hat)  # per example: D has no cross-example layers
        sq = tf.reduce_sum(tf.reshape(tf.square(grad), [tf.shape(grad)[0], -1]), axis=1)
        norm = tf.sqrt(sq + base.scalar(self.epsilon, sq.dtype))
        return 0.5 * base.scalar(gamma, sq.dtype) * tf.reduce_mean(tf.square(norm - self.target))

    def regularised(self, game, params, state, batch, stage, reducer, gamma):
        self.check_game(game)
        fo = base.first_order(game, params, state, batch, players=stage.players,
                              d_penalty=(lambda p: self._penalty(p, gamma)) if "d" in stage.players else None)
        return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)
