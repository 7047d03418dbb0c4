"""Instance noise (Sønderby et al. 2016), as analysed by Mescheder et al. 2018 (Sec. 3.2, Lemma 3.2).

Gaussian noise of standard deviation σ is added to the real and to the generated samples before the
discriminator sees them; both players' losses average over `num_draws` noise draws per example:

    f_σ(φ, θ) = E_{x, ε}[g1(D(x + ε))] + E_{z, ε′}[g2(D(G(z) + ε′))],   ε, ε′ ~ N(0, σ²I).

u = plain gradients of f_σ (SimGD). On the Dirac-GAN the Jacobian's eigenvalues are
f″(0)σ² ± √(f″(0)²σ⁴ − f′(0)²) (Lemma 3.2). The noise is a method input drawn statelessly from the step's seed
(`sample_inputs`); `gamma` is unused.
"""

import tensorflow as tf

from jare_tf.games.game import Players
from jare_tf.methods import base


def _with_draws(x: tf.Tensor, noise: tf.Tensor) -> tf.Tensor:
    """x of shape [B, ...] and noise of shape [B, K, ...] -> (x + noise) of shape [B·K, ...]."""
    noisy = x[:, tf.newaxis] + noise
    return tf.reshape(noisy, tf.concat([[-1], tf.shape(x)[1:]], axis=0))


@base.register("instance_noise")
class InstanceNoise(base.Method):
    uses_gamma = False          # the noise is the regulariser; γ is unused

    def __init__(self, gamma: float = 0.0, std: float = 0.1, num_draws: int = 1):
        super().__init__(gamma)
        if std < 0 or num_draws < 1:
            raise ValueError(f"instance_noise needs std >= 0 and num_draws >= 1, got std={std}, "
                             f"num_draws={num_draws}.")
        self.std, self.num_draws = float(std), int(num_draws)

    def sample_inputs(self, batch, seed):
        real = batch["real"]
        shape = tf.concat([tf.shape(real)[:1], [self.num_draws], tf.shape(real)[1:]], axis=0)
        seeds = tf.random.experimental.stateless_split(seed, 2)
        return {f"noise_{which}": self.std * tf.random.stateless_normal(shape, seed=s, dtype=real.dtype)
                for which, s in zip(("real", "fake"), tf.unstack(seeds))}

    def directions(self, game, params, state, batch, stage=base.SIMULTANEOUS[0], reducer=base.LOCAL):
        self.check_game(game)
        fo = base.first_order(
            game, params, state, batch,
            d_inputs=lambda xr, xf: (_with_draws(xr, batch["noise_real"]), _with_draws(xf, batch["noise_fake"])))
        return base.Directions(Players(fo.grad_g, fo.grad_d), fo.state, fo.scalars)
