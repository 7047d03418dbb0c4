"""The Method interface, the method registry and the cross-replica vector helper.

A Method is an update rule of the two-player game. It is split, as DESIGN.md requires, into

* `directions(...)`: a *pure* function from (parameters, layer state, minibatch) to one update direction per
  player — the vector u such that a plain gradient step is w ← w − η·u. Optimizers (one per player, each with
  its own hyperparameters) are applied by the trainer, never here, so `jare_tf.analysis` can differentiate
  exactly the directions that training applies.
* `stages()`: the order in which the players are updated within one training iteration. Single-stage methods
  (SimGD and all regularised variants) update both players from one forward pass; AltGD has a D stage and a G
  stage, each repeated n_d / n_g times.
* `project(params)`: a post-step projection (WGAN's weight clipping); the identity by default.
* `sample_inputs(batch, seed)`: the method's own randomness (WGAN-GP's α, instance noise) drawn statelessly
  from a seed, so a direction stays a function of its inputs.
* `iteration_inputs(batch, t)`: inputs that are a function of the iteration number (lazy regularisation's t,
  methods/lazy.py), filled by the trainers from their checkpointed step.

Sign convention (the JARE paper's): θ (discriminator) ascends f and φ (generator) descends f, so with
L_D = −f and L_G = f (or the non-saturating L_G) the directions of SimGD are u_φ = g_φ = ∇_φ L_G and
u_θ = g_θ = ∇_θ L_D, and the paper's update vector field (eq. 5) is −u.

Second-order terms are vector–Jacobian products of a player's gradient against a vector: ∇_w ½‖g‖² is
(∂g/∂w)ᵀ v with v = g. The vector comes from `VectorReducer.global_mean`: on one device it is the player's own
gradient (no stop_gradient, so higher derivatives stay exact for the analysis); under data parallelism it is
stop_gradient of the all-reduced mean gradient ḡ, which makes every regulariser that of the global batch
(DESIGN.md, "Distribution").
"""

import abc
import contextlib
import dataclasses
from typing import Callable, ClassVar, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type

import tensorflow as tf

from jare_tf.games.game import Game, Players

# --------------------------------------------------------------------------------------------------------------
# Small numerical helpers.
# --------------------------------------------------------------------------------------------------------------


def half_sq_norm(tensors: Sequence[tf.Tensor]) -> tf.Tensor:
    """½ Σ‖t‖² over all tensors, computed directly.

    ½·global_norm² has the same value, but the square root makes its gradient 0·∞ = NaN at g = 0
    (reference_spec G.11).
    """
    return 0.5 * tf.add_n([tf.reduce_sum(tf.square(t)) for t in tensors])


def global_norm(tensors: Sequence[tf.Tensor]) -> tf.Tensor:
    """‖·‖ over all tensors of one player (for summaries; never differentiated)."""
    return tf.sqrt(2.0 * half_sq_norm(tensors))


def checked_gradient(tape: tf.GradientTape, target, sources: Sequence[tf.Tensor], what: str) -> List[tf.Tensor]:
    """tape.gradient that fails loudly when a parameter gets no gradient.

    A first-order gradient that is None means a parameter does not influence its player's loss: a broken model
    or game, which the reference code would silently drop together with the parameter's update
    (reference_spec G.10).
    """
    grads = tape.gradient(target, list(sources))
    missing = [i for i, g in enumerate(grads) if g is None]
    if missing:
        details = ", ".join(f"#{i} shape {sources[i].shape}" for i in missing)
        raise ValueError(
            f"{what}: no gradient for parameter(s) {details}. Every trainable variable of a player must "
            f"influence that player's loss; remove unused variables or mark them non-trainable.")
    return grads


def vjp(tape: tf.GradientTape, grads: Sequence[tf.Tensor], wrt: Sequence[tf.Tensor],
        vector: Sequence[tf.Tensor]) -> List[tf.Tensor]:
    """(∂grads/∂wrt)ᵀ · vector by double backprop through `tape`, which recorded the computation of `grads`.

    With vector = grads this is ∇_wrt ½‖grads‖². Parameters that provably do not enter `grads` (for example
    the output bias of D in the WGAN generator gradient) get an exact zero rather than None; the first-order
    gradients were already checked to be complete by `checked_gradient`, and a term with no path to any
    parameter at all is an error.
    """
    out = tape.gradient(list(grads), list(wrt), output_gradients=list(vector))
    if all(o is None for o in out):
        raise ValueError("A second-order term does not depend on any of the parameters it regularises; the "
                         "regulariser would be silently zero.")
    return [tf.zeros_like(w) if o is None else o for o, w in zip(out, wrt)]


def scalar(a, dtype) -> tf.Tensor:
    """A Python number or tensor as a scalar of `dtype`.

    tf.cast(0.3, tf.float64) would round 0.3 through float32 first; tf.constant keeps the Python value exact.
    """
    return tf.cast(a, dtype) if isinstance(a, (tf.Tensor, tf.Variable)) else tf.constant(a, dtype)


def axpy(a, x: Sequence[tf.Tensor], y: Sequence[tf.Tensor]) -> List[tf.Tensor]:
    """y + a·x, elementwise over lists of tensors."""
    return [yi + scalar(a, yi.dtype) * xi for xi, yi in zip(x, y)]


# --------------------------------------------------------------------------------------------------------------
# Cross-replica vectors.
# --------------------------------------------------------------------------------------------------------------


class VectorReducer:
    """Turns a replica's gradient into the vector a second-order term is taken against.

    The default (one device, or any code outside a replica context) returns the gradient itself. Under R > 1
    replicas it returns ḡ = stop_gradient(all-reduce-mean of the replicas' gradients), and each replica's term is
    J_rᵀḡ. The mean over replicas of those terms is ∇½‖ḡ‖² — the regulariser of the global batch — provided that
    (1) the trainer averages the replicas' directions (a MEAN all-reduce, or SUM of directions scaled by 1/R),
    (2) each replica's losses are plain means over its own examples, and (3) the replicas' batches are equal in
    size (the global batch divides by R). Analysis code must run on one device, where no stop_gradient is
    applied and higher derivatives stay exact.
    """

    def global_mean(self, tensors: Sequence[tf.Tensor]) -> List[tf.Tensor]:
        ctx = tf.distribute.get_replica_context()
        if ctx is None or ctx.num_replicas_in_sync == 1:
            return list(tensors)
        reduced = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, list(tensors))
        # Differentiating through all_reduce would double-count: the vector is a constant of the VJP.
        return [tf.stop_gradient(t) for t in reduced]


LOCAL = VectorReducer()

# --------------------------------------------------------------------------------------------------------------
# One forward pass and the first-order gradients.
# --------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Pass:
    """What a discriminator penalty may use from the main forward pass."""

    game: Game
    params: Players
    state: Players
    batch: Dict[str, tf.Tensor]
    x_real: tf.Tensor
    x_fake: tf.Tensor
    d_real: tf.Tensor
    d_fake: tf.Tensor
    input_tape: Optional[tf.GradientTape]

    def input_gradient(self, which: str) -> tf.Tensor:
        """∇_x D(x) per example on the real or fake batch of the main pass (D has no cross-example layers)."""
        if self.input_tape is None:
            raise ValueError("input_gradient needs first_order(..., watch_inputs=True).")
        x, logits = (self.x_real, self.d_real) if which == "real" else (self.x_fake, self.d_fake)
        return self.input_tape.gradient(logits, x)  # a non-scalar target is summed

    def discriminate_extra(self, x: tf.Tensor) -> tf.Tensor:
        """D on extra inputs (e.g. WGAN-GP interpolates); its layer-state updates are discarded."""
        logits, _ = self.game.discriminate(self.params.d, x, self.state.d)
        return logits


class FirstOrder(NamedTuple):
    grad_g: Optional[List[tf.Tensor]]      # g_φ = ∇_φ L_G (training loss)
    grad_g_reg: Optional[List[tf.Tensor]]  # ∇_φ of the generator loss the D-side regularisers use
    grad_d: Optional[List[tf.Tensor]]      # g_θ = ∇_θ (L_D + penalty)
    scalars: Dict[str, tf.Tensor]
    state: Players


def first_order(game: Game, params: Players, state: Players, batch: Dict[str, tf.Tensor],
                players: Tuple[str, ...] = ("g", "d"),
                d_inputs: Optional[Callable[[tf.Tensor, tf.Tensor], Tuple[tf.Tensor, tf.Tensor]]] = None,
                d_penalty: Optional[Callable[[Pass], tf.Tensor]] = None,
                watch_inputs: bool = False) -> FirstOrder:
    """One forward pass on one minibatch and the players' gradients.

    Args:
      game: the Game.
      params: (φ, θ) as lists of tensors.
      state: the players' non-trainable values.
      batch: {"real": real samples, "z": latents, ...method inputs}.
      players: which players' gradients to compute.
      d_inputs: maps (x_real, x_fake) to the discriminator's inputs (instance noise).
      d_penalty: a penalty on D added to L_D (R1, R2, WGAN-GP), computed from the main pass.
      watch_inputs: record the main pass's input gradients for the penalty (`Pass.input_gradient`, R1/R2);
        penalties that make their own passes (WGAN-GP) leave it off, so no extra tape records the D calls.

    Call it inside an outer GradientTape to take second-order terms of the returned gradients.
    """
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(params.g) + list(params.d))
        x_fake, g_state = game.generate(params.g, batch["z"], state.g)
        x_real = batch["real"]
        if d_inputs is not None:
            x_real, x_fake = d_inputs(x_real, x_fake)
        input_tape = tf.GradientTape(persistent=True) if watch_inputs else None
        with input_tape if watch_inputs else contextlib.nullcontext():
            if watch_inputs:
                input_tape.watch([x_real, x_fake])
            d_real, d_state = game.discriminate(params.d, x_real, state.d)
            d_fake, d_state = game.discriminate(params.d, x_fake, d_state)
        l_d = game.discriminator_loss(d_real, d_fake)
        l_g, l_g_reg = game.generator_losses(d_real, d_fake)
        scalars = {"loss/d": l_d, "loss/g": l_g}
        l_d_total = l_d
        if d_penalty is not None:
            penalty = d_penalty(Pass(game, params, state, batch, x_real, x_fake, d_real, d_fake, input_tape))
            scalars["reg/d_penalty"] = penalty
            l_d_total = l_d + penalty
    grad_g = grad_g_reg = grad_d = None
    if "g" in players:
        grad_g = checked_gradient(tape, l_g, params.g, "generator loss")
        grad_g_reg = grad_g if l_g_reg is l_g else checked_gradient(
            tape, l_g_reg, params.g, "generator loss of the regulariser")
        scalars["grad_norm/g"] = global_norm(grad_g)
    if "d" in players:
        grad_d = checked_gradient(tape, l_d_total, params.d, "discriminator loss")
        scalars["grad_norm/d"] = global_norm(grad_d)
    del tape
    return FirstOrder(grad_g, grad_g_reg, grad_d, scalars, Players(g_state, d_state))


# --------------------------------------------------------------------------------------------------------------
# The interface.
# --------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of an iteration: which players move, and how many times in a row."""

    players: Tuple[str, ...]
    repeats: int = 1


SIMULTANEOUS = (Stage(("g", "d")),)


def discriminator_first(n_d: int) -> Tuple[Stage, ...]:
    """Simultaneous steps when n_d = 1, otherwise n_d discriminator steps before each generator step."""
    if n_d < 1:
        raise ValueError(f"n_d (discriminator steps per generator step) must be >= 1, got {n_d}.")
    return SIMULTANEOUS if n_d == 1 else (Stage(("d",), n_d), Stage(("g",), 1))


class Directions(NamedTuple):
    """Update directions (None for a player that does not move in this stage), new layer state, summaries."""

    updates: Players
    state: Players
    scalars: Dict[str, tf.Tensor]


class Method(abc.ABC):
    """An update rule of the two-player game. Subclasses register themselves under their --method name."""

    name: ClassVar[str] = ""
    #: Whether the method needs the spectrally normalised discriminator of its setting (SN-GAN).
    spectral_norm_discriminator: ClassVar[bool] = False
    #: Loss family the method is defined for (None: any).
    required_family: ClassVar[Optional[str]] = None
    #: Whether γ changes the update (False for the unregularised methods, which take it only so that every
    #: method can be built from one set of options; a setting's config that sets it for them is refused). A
    #: registered method that ignores γ sets it to False, or jare-train warns when it runs with γ = 0.
    uses_gamma: ClassVar[bool] = True

    def __init__(self, gamma: float = 0.0):
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0 for method {self.name!r}, got {gamma}.")
        self.gamma = float(gamma)

    def stages(self) -> Tuple[Stage, ...]:
        return SIMULTANEOUS

    @abc.abstractmethod
    def directions(self, game: Game, params: Players, state: Players, batch: Dict[str, tf.Tensor],
                   stage: Stage = SIMULTANEOUS[0], reducer: VectorReducer = LOCAL) -> Directions:
        """Update directions u (w ← w − η·u for a plain gradient step) for the players of `stage`."""

    def project(self, params: Players) -> Players:
        """Projection applied to the parameters after every optimizer step (identity by default)."""
        return params

    def sample_inputs(self, batch: Dict[str, tf.Tensor], seed: tf.Tensor) -> Dict[str, tf.Tensor]:
        """Method-specific random inputs for `batch`, drawn statelessly from `seed` (shape [2] int).

        Every input has the example axis first, like "real" and "z", so the input pipeline can draw them for
        the global batch and hand each replica its slice (`training.distribute.per_replica_dataset`).
        """
        return {}

    def iteration_inputs(self, batch: Dict[str, tf.Tensor], iteration) -> Dict[str, tf.Tensor]:
        """Inputs that are a function of the iteration number (the trainer's checkpointed step): the lazy
        methods' t (methods/lazy.py). None by default; like `sample_inputs`, each has the example axis first."""
        return {}

    def optimizer_overrides(self) -> Players:
        """Per-player optimizer hyperparameters this method changes (e.g. the reference AltGD's G-side β1)."""
        return Players({}, {})

    def check_game(self, game: Game) -> None:
        if self.required_family is not None and game.family != self.required_family:
            raise ValueError(
                f"--method={self.name} is defined for the {self.required_family!r} loss family, but the game "
                f"uses {game.family!r}: build the Game with family={self.required_family!r} "
                f"(Game(generator, discriminator, family={self.required_family!r})), or on a setting pass "
                f"--config.game.family={self.required_family}.")


_REGISTRY: Dict[str, Type[Method]] = {}


def register(name: str):
    """Class decorator: make a Method available as --method=name."""

    def wrap(cls: Type[Method]) -> Type[Method]:
        if name in _REGISTRY:
            raise ValueError(f"Method {name!r} registered twice.")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def names() -> List[str]:
    return sorted(_REGISTRY)


def method_class(name: str) -> Type[Method]:
    if name not in _REGISTRY:
        raise ValueError(f"Unknown --method={name!r}; valid methods: {', '.join(names())}.")
    return _REGISTRY[name]


def get(name: str, **options) -> Method:
    """Instantiate the method registered as `name` with its options (gamma, clip, ...)."""
    return method_class(name)(**options)
