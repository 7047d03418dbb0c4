"""The toy settings: how each builds its game, draws its minibatches and measures a run.

A setting is a small object the trainer asks for three things — the Game, the minibatch of a seed, and the
metrics of the current parameters — so the trainer is the same for all of them.
"""

import math
from typing import Dict, List, Optional

import keras
import numpy as np
import tensorflow as tf

from jare_tf.data import synthetic
from jare_tf.evaluation import plots, toy_metrics
from jare_tf.games.game import Game
from jare_tf.models import toy


def _game(config, generator, discriminator, family: str) -> Game:
    return Game(generator, discriminator, family=family, generator_loss=config.game.generator_loss,
                regularizer_generator_loss=config.game.regularizer_generator_loss)


def _values(variables) -> np.ndarray:
    return np.concatenate([np.ravel(v.numpy()) for v in variables])


class ToySetting:
    #: Whether the game is small enough for a dense Jacobian (ζ and τ during training).
    dense_jacobian = True

    def build_game(self, config, family: str) -> Game:
        raise NotImplementedError

    def sample(self, config, seed: tf.Tensor) -> Dict[str, tf.Tensor]:
        raise NotImplementedError

    def metrics(self, config, game: Game) -> Dict[str, float]:
        raise NotImplementedError

    def final_metrics(self, config, history: Dict[str, List[float]]) -> Dict[str, object]:
        """metrics.json: the last logged value of every metric."""
        return {key: values[-1] for key, values in history.items() if key != "step"}

    def image(self, config, game: Game, step: int) -> Optional[Dict[str, object]]:
        return None


class Isotropic(ToySetting):
    """JARE paper Sec. 4: G(z) = z + φ, D(x) = θᵀx, equilibrium (v, 0)."""

    @staticmethod
    def optimum(config) -> np.ndarray:
        v = np.zeros(config.data.dim)
        v[-1] = config.data.mu
        return v

    def build_game(self, config, family):
        if config.data.sigma2 <= 0 or config.data.dim < 1:
            raise ValueError(f"isotropic needs config.data.sigma2 > 0 and config.data.dim >= 1, got "
                             f"{config.data.sigma2} and {config.data.dim}.")
        offset = config.data.init_offset
        v = self.optimum(config)
        return _game(config, toy.isotropic_generator(v + offset),
                     toy.linear_discriminator(np.full(config.data.dim, offset)), family)

    def sample(self, config, seed):
        return synthetic.isotropic(seed, config.batch_size, config.data.mu, config.data.sigma2, config.data.dim)

    def metrics(self, config, game):
        return toy_metrics.parameter_distances(_values(game.generator.trainable_variables),
                                               _values(game.discriminator.trainable_variables),
                                               self.optimum(config))


class Dirac(ToySetting):
    """Mescheder et al. 2018, Sec. 2.2: p_φ = δ_φ, D(x) = θx, data δ₀, equilibrium (0, 0)."""

    def build_game(self, config, family):
        return _game(config, toy.dirac_generator(config.data.phi0), toy.dirac_discriminator(config.data.theta0),
                     family)

    def sample(self, config, seed):
        return synthetic.dirac(config.batch_size)

    def metrics(self, config, game):
        w = np.concatenate([_values(game.generator.trainable_variables),
                            _values(game.discriminator.trainable_variables)])
        return {"distance": float(np.linalg.norm(w)), "phi": float(w[0]), "theta": float(w[1])}

    def final_metrics(self, config, history):
        return dict(toy_metrics.trajectory_summary(history["distance"]),
                    phi=history["phi"][-1], theta=history["theta"][-1])


class NKStreamlines(ToySetting):
    """Nagarajan & Kolter 2017, Fig. 3: D(x) = w₂x², G(z) = a·z, uniform data and latent; equilibrium (1, 0)."""

    def build_game(self, config, family):
        return _game(config, toy.nk_generator(config.data.a0), toy.nk_discriminator(config.data.w20), family)

    def sample(self, config, seed):
        s_real, s_z = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        shape = [config.batch_size, 1]
        return {"real": tf.random.stateless_uniform(shape, s_real, -1.0, 1.0),
                "z": tf.random.stateless_uniform(shape, s_z, -1.0, 1.0)}

    def metrics(self, config, game):
        a = _values(game.generator.trainable_variables)[0]
        w2 = _values(game.discriminator.trainable_variables)[0]
        return {"a": float(a), "w2": float(w2), "distance": float(math.hypot(abs(a) - 1.0, w2))}


class Ring(ToySetting):
    """Mixture of Gaussians on a ring (JARE paper Sec. 7; Mescheder et al. 2017 for mog_numerics)."""

    dense_jacobian = False

    def centres(self, config) -> np.ndarray:
        return synthetic.ring_centres(config.data.num_modes, config.data.radius).numpy()

    def build_game(self, config, family):
        keras.utils.set_random_seed(config.seed)
        widths = list(config.model.widths)
        return _game(config, toy.mlp(config.data.latent_dim, widths, 2, name="generator"),
                     toy.mlp(2, widths, 1, name="discriminator"), family)

    def sample(self, config, seed):
        d = config.data
        return synthetic.ring(seed, config.batch_size, d.num_modes, d.radius, d.std, d.stratified,
                              d.latent_dim, d.latent_variance)

    def eval_samples(self, config, game) -> np.ndarray:
        """G on a fixed set of latents (the same at every evaluation of a run)."""
        seed = tf.constant([config.seed, 0xE7A1], tf.int32)
        z = math.sqrt(config.data.latent_variance) * tf.random.stateless_normal(
            [config.data.eval_samples, config.data.latent_dim], seed)
        x, _ = game.generate(game.params().g, z, game.state().g)
        return x.numpy()

    def metrics(self, config, game):
        m = toy_metrics.mode_coverage(self.eval_samples(config, game), self.centres(config), config.data.std)
        return {"modes_covered": m["modes_covered"], "high_quality_fraction": m["high_quality_fraction"]}

    def image(self, config, game, step):
        samples = self.eval_samples(config, game)
        r = 2.0 * config.data.radius
        png = plots.density_png(samples, (-r, r, -r, r), self.centres(config), f"step {step}")
        return {"png": png, "samples": samples}


SETTINGS = {"isotropic": Isotropic(), "dirac": Dirac(), "mog": Ring(), "mog_numerics": Ring(),
            "nk_streamlines": NKStreamlines()}
