"""One optimizer per player, with the reference code's exact semantics where Keras' defaults differ.

* Adam: Keras 3's update is TF1's "epsilon-hat" form; only ε differs (Keras 1e-7, reference 1e-8), so ε is
  always set explicitly (reference_spec A.2, G.6).
* RMSProp: TF1's RMSPropOptimizer initialises the mean-square accumulator to ones and uses ε = 1e-10 inside
  the square root: ms ← ρ·ms + (1 − ρ)g², Δ = −lr·g/√(ms + ε). Keras 3's RMSprop has the same update with ε
  inside the root but starts the accumulator at zero, which makes the first steps ~1/√(1−ρ) ≈ 3× larger;
  `ReferenceRMSprop` starts it at one (settings D, mog, reference_spec A.2).
* SGD: plain gradient descent (the isotropic example, Sec. 7).

A player's optimizer is described by a dict such as {"name": "adam", "learning_rate": 1e-4, "beta_1": 0.5,
"beta_2": 0.999, "epsilon": 1e-8}; `for_players` applies a method's per-player overrides (the reference
AltGD's G-side β1 = 0.9).
"""

from typing import Dict, Mapping

import keras

from jare_tf.games.game import Players

NAMES = ("sgd", "adam", "rmsprop")


class ReferenceRMSprop(keras.optimizers.RMSprop):
    """RMSProp with TF1 semantics: accumulator initialised to ones, ε = 1e-10 inside the root, no momentum."""

    def __init__(self, learning_rate=1e-4, rho=0.9, epsilon=1e-10, **kwargs):
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon, momentum=0.0, centered=False,
                         **kwargs)

    def build(self, var_list):
        super().build(var_list)
        for velocity in self._velocities:
            velocity.assign(keras.ops.ones_like(velocity))


def make(spec: Mapping[str, object]) -> keras.optimizers.Optimizer:
    """Build one player's optimizer from its description."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in NAMES:
        raise ValueError(f"Unknown optimizer name {name!r}; choose one of {NAMES}.")
    lr = spec.pop("learning_rate", None)
    if lr is None or float(lr) <= 0:
        raise ValueError(f"The {name} optimizer needs a learning_rate > 0, got {lr!r}.")
    try:
        if name == "sgd":
            return keras.optimizers.SGD(learning_rate=lr, **spec)
        if name == "adam":
            spec.setdefault("epsilon", 1e-8)
            return keras.optimizers.Adam(learning_rate=lr, **spec)
        return ReferenceRMSprop(learning_rate=lr, **spec)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Bad option for the {name} optimizer: {e}") from None


def for_players(generator: Mapping[str, object], discriminator: Mapping[str, object],
                overrides: Players = Players({}, {})) -> Players:
    """(G optimizer, D optimizer), each from its own description with the method's overrides applied."""
    specs = [dict(spec, **extra) for spec, extra in zip((generator, discriminator), overrides)]
    return Players(*[make(spec) for spec in specs])


def describe(optimizer: keras.optimizers.Optimizer) -> Dict[str, object]:
    """The hyperparameters an optimizer runs with (for the resolved config and summaries)."""
    config = optimizer.get_config()
    return {k: config[k] for k in ("name", "learning_rate", "beta_1", "beta_2", "rho", "epsilon", "momentum")
            if k in config}
