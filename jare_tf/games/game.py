"""The Game bundle: generator, discriminator and loss family (DESIGN.md, "Interfaces").

Methods never build models and never read variables directly: they receive the players' parameters as lists of
tensors (`Players`) and evaluate the networks through `Game.generate` / `Game.discriminate`, which call the
Keras models statelessly. That makes every update direction a pure function of (parameters, state, batch), so
`jare_tf.analysis` can differentiate exactly what training applies, and multi-stage methods can evaluate the
game at points other than the current variables (e.g. the look-ahead point of adversarial extrapolation).

Layer state (batch-norm moving statistics, the spectral-norm vector u) is threaded explicitly: each call takes
the player's non-trainable values and returns the updated ones. The discriminator is called separately on the
real and on the fake batch, in that order, as the reference code does (reference_spec A.5, G.12).
"""

import dataclasses
from typing import List, NamedTuple, Sequence, Tuple, TypeVar

import keras
import tensorflow as tf

from jare_tf.games import losses

T = TypeVar("T")


class Players(NamedTuple):
    """One value per player, generator first (the paper's w = (φ, θ))."""

    g: T
    d: T


GENERATOR_LOSS_FOR_REGULARIZER = ("same", "minimax")


@dataclasses.dataclass
class Game:
    """A two-player GAN game.

    Attributes:
      generator: Keras model z -> x (parameters φ).
      discriminator: Keras model x -> logit of shape [B] or [B, 1] (parameters θ).
      family: loss family name, see `jare_tf.games.losses.FAMILIES`.
      generator_loss: "minimax" (L_G = f) or "non_saturating".
      regularizer_generator_loss: which generator loss g_φ enters the discriminator-side regularisers
        (JARE's R_D = ½‖g_φ‖², ConOpt's R, extrapolation's look-ahead of φ): "same" uses the generator's
        training loss (the reference CIFAR code, which regularises with the non-saturating gradient,
        reference_spec B.6), "minimax" uses ∇_φ f as eq. (7) of the paper and the synthetic code do.
    """

    generator: keras.Model
    discriminator: keras.Model
    family: str = "vanilla"
    generator_loss: str = "minimax"
    regularizer_generator_loss: str = "same"

    def __post_init__(self):
        self._family = losses.get_family(self.family)
        if self.generator_loss not in losses.GENERATOR_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {self.generator_loss!r}; choose one of {losses.GENERATOR_LOSSES}.")
        if self.regularizer_generator_loss not in GENERATOR_LOSS_FOR_REGULARIZER:
            raise ValueError(
                f"Unknown regularizer_generator_loss {self.regularizer_generator_loss!r}; choose one of "
                f"{GENERATOR_LOSS_FOR_REGULARIZER}.")

    # --- parameters and state -------------------------------------------------------------------------------
    def syncs_across_replicas(self) -> bool:
        """Whether a layer of either player all-reduces inside its forward pass (synchronised batch norm): then no
        branch (lazy regularisation's tf.cond) and no forward-mode product may hold the forward pass."""
        def layers(layer):
            yield layer
            for inner in getattr(layer, "layers", []):
                yield from layers(inner)
        return any(getattr(layer, "sync", False) for model in (self.generator, self.discriminator)
                   for layer in layers(model))

    def variables(self) -> Players:
        """The trainable variables (φ, θ), in the order the parameter lists use."""
        return Players(list(self.generator.trainable_variables), list(self.discriminator.trainable_variables))

    def params(self) -> Players:
        """Current values of the trainable variables as tensors."""
        return Players(*[[tf.convert_to_tensor(v.value) for v in vs] for vs in self.variables()])

    def state(self) -> Players:
        """Current values of the non-trainable variables (BN statistics, spectral-norm u)."""
        return Players(
            [tf.convert_to_tensor(v.value) for v in self.generator.non_trainable_variables],
            [tf.convert_to_tensor(v.value) for v in self.discriminator.non_trainable_variables])

    def state_variables(self) -> List:
        """The non-trainable variables, generator's first, in the order `state()` lists their values."""
        return list(self.generator.non_trainable_variables) + list(self.discriminator.non_trainable_variables)

    # --- stateless evaluation -------------------------------------------------------------------------------
    def generate(self, g_params: Sequence[tf.Tensor], z: tf.Tensor,
                 g_state: Sequence[tf.Tensor]) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        x, new_state = self.generator.stateless_call(list(g_params), list(g_state), z, training=True)
        return x, list(new_state)

    def discriminate(self, d_params: Sequence[tf.Tensor], x: tf.Tensor,
                     d_state: Sequence[tf.Tensor]) -> Tuple[tf.Tensor, List[tf.Tensor]]:
        logits, new_state = self.discriminator.stateless_call(list(d_params), list(d_state), x, training=True)
        if logits.shape.rank == 2 and logits.shape[-1] == 1:
            logits = tf.squeeze(logits, axis=-1)
        return logits, list(new_state)

    # --- losses ---------------------------------------------------------------------------------------------
    def discriminator_loss(self, d_real: tf.Tensor, d_fake: tf.Tensor) -> tf.Tensor:
        return losses.discriminator_loss(self._family, d_real, d_fake)

    def generator_losses(self, d_real: tf.Tensor, d_fake: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        """(L_G used for training, L_G whose φ-gradient enters the discriminator-side regularisers)."""
        l_g = losses.generator_loss(self._family, self.generator_loss, d_real, d_fake)
        if self.regularizer_generator_loss == "same" or self.generator_loss == "minimax":
            return l_g, l_g
        return l_g, losses.generator_loss(self._family, "minimax", d_real, d_fake)
