"""Synthetic data of the toy settings, as stateless functions of a seed.

Every minibatch is a function of (run seed, step, stage index), drawn with TensorFlow's stateless RNG, so a run
is reproducible, can be resumed at any step, and does not depend on where it runs.
"""

import math
from typing import Dict

import tensorflow as tf


def step_seed(seed: int, step: tf.Tensor, k: int = 0) -> tf.Tensor:
    """The seed of the k-th minibatch of iteration `step` (shape [2] int32)."""
    base = tf.constant([seed, 0x5EED], tf.int32)
    folded = tf.random.experimental.stateless_fold_in(base, tf.cast(step, tf.int64))
    return tf.random.experimental.stateless_fold_in(folded, k)


def _split(seed: tf.Tensor, n: int):
    return tf.unstack(tf.random.experimental.stateless_split(seed, n))


def isotropic(seed: tf.Tensor, batch_size: int, mu: float, sigma2: float, dim: int,
              dtype=tf.float32) -> Dict[str, tf.Tensor]:
    """x ~ N(v, σ²I) with v = [0, …, μ]; z = σ·N(0, I) (JARE paper Sec. 4; reference_spec C.1)."""
    s_real, s_z = _split(seed, 2)
    sigma = math.sqrt(sigma2)
    v = tf.constant([0.0] * (dim - 1) + [mu], dtype)
    return {"real": v + sigma * tf.random.stateless_normal([batch_size, dim], s_real, dtype=dtype),
            "z": sigma * tf.random.stateless_normal([batch_size, dim], s_z, dtype=dtype)}


def ring_centres(num_modes: int, radius: float, dtype=tf.float32) -> tf.Tensor:
    """Mode centres r(cos 2πk/K, sin 2πk/K), k = 0 … K−1."""
    angles = 2.0 * math.pi * tf.range(num_modes, dtype=dtype) / num_modes
    return radius * tf.stack([tf.cos(angles), tf.sin(angles)], axis=1)


def ring(seed: tf.Tensor, batch_size: int, num_modes: int, radius: float, std: float, stratified: bool,
         latent_dim: int, latent_variance: float, dtype=tf.float32) -> Dict[str, tf.Tensor]:
    """Mixture of K Gaussians on a circle. Stratified: row i uses mode i mod K (reference_spec C.2, G.17);
    otherwise modes are drawn uniformly. z ~ N(0, latent_variance·I)."""
    s_mode, s_real, s_z = _split(seed, 3)
    if stratified:
        modes = tf.range(batch_size) % num_modes
    else:
        modes = tf.random.stateless_uniform([batch_size], s_mode, maxval=num_modes, dtype=tf.int32)
    centres = tf.gather(ring_centres(num_modes, radius, dtype), modes)
    real = centres + std * tf.random.stateless_normal([batch_size, 2], s_real, dtype=dtype)
    z = math.sqrt(latent_variance) * tf.random.stateless_normal([batch_size, latent_dim], s_z, dtype=dtype)
    return {"real": real, "z": z}


def dirac(batch_size: int = 1, dtype=tf.float32) -> Dict[str, tf.Tensor]:
    """Data δ₀ on the real line; the Dirac generator ignores its latent."""
    return {"real": tf.zeros([batch_size, 1], dtype), "z": tf.zeros([batch_size, 1], dtype)}
