"""Games at their equilibria with exact expectations, for the spectrum tool and the tests.

At an equilibrium with θ* = 0 (the isotropic example and the Dirac-GAN), the Jacobian of every method depends
on the data only through first and second moments: third and higher derivatives of f are multiplied by
∇f = 0 there. A finite "moment-matched" point set with the exact mean and covariance therefore gives the exact
expectation: for N(m, σ²I_n) the 2n points m ± σ√n·e_i. The same holds for the noise of instance noise.
"""

from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

from jare_tf.games.game import Game
from jare_tf.methods import base
from jare_tf.methods.instance_noise import InstanceNoise
from jare_tf.models import toy

DTYPE = "float64"


def moment_matched(mean: np.ndarray, std: float) -> np.ndarray:
    """2n points whose empirical mean is `mean` and covariance (1/N) is std²·I_n."""
    mean = np.asarray(mean, dtype=np.float64)
    n = mean.size
    offsets = std * np.sqrt(n) * np.concatenate([np.eye(n), -np.eye(n)])
    return mean[None, :] + offsets


def isotropic(mu: float, sigma2: float, dim: int = 2, family: str = "vanilla",
              generator_loss: str = "minimax") -> Tuple[Game, Dict[str, tf.Tensor]]:
    """The Sec. 4 example at (φ*, θ*) = (v, 0), v = [0, …, 0, μ] in R^dim, with an exact-expectation batch."""
    if dim < 1 or sigma2 <= 0:
        raise ValueError(f"isotropic needs dim >= 1 and sigma2 > 0, got dim={dim}, sigma2={sigma2}.")
    v = np.zeros(dim)
    v[-1] = mu
    game = Game(toy.isotropic_generator(v, DTYPE), toy.linear_discriminator(np.zeros(dim), DTYPE),
                family=family, generator_loss=generator_loss, regularizer_generator_loss="same")
    sigma = float(np.sqrt(sigma2))
    batch = {"real": tf.constant(moment_matched(v, sigma)), "z": tf.constant(moment_matched(np.zeros(dim), sigma))}
    return game, batch


def dirac(family: str = "vanilla", generator_loss: str = "minimax") -> Tuple[Game, Dict[str, tf.Tensor]]:
    """The Dirac-GAN at its equilibrium (φ, θ) = (0, 0) with data δ_0."""
    game = Game(toy.dirac_generator(0.0, DTYPE), toy.dirac_discriminator(0.0, DTYPE), family=family,
                generator_loss=generator_loss, regularizer_generator_loss="same")
    batch = {"real": tf.zeros([1, 1], DTYPE), "z": tf.zeros([1, 1], DTYPE)}
    return game, batch


def with_expected_inputs(method: base.Method, batch: Dict[str, tf.Tensor],
                         seed: Optional[Tuple[int, int]] = (0, 0)) -> Dict[str, tf.Tensor]:
    """Add the method's random inputs: moment-matched noise for instance noise, a seeded draw otherwise."""
    if isinstance(method, InstanceNoise):
        real = batch["real"].numpy()
        draws = moment_matched(np.zeros(real.shape[1]), method.std)       # [2n, n]
        noise = np.broadcast_to(draws[None], (real.shape[0],) + draws.shape).copy()   # [B, 2n, n]: each example
        return dict(batch, noise_real=tf.constant(noise), noise_fake=tf.constant(noise))
    return dict(batch, **method.sample_inputs(batch, tf.constant(seed, tf.int32)))
