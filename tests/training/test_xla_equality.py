"""An XLA-compiled step computes what the plain step computes (issue 28): for every registered method on the
architecture of setting C, and for representative methods on A (batch norm in G), E (ResNet) and the 64×64
celeba network, a GANModel trained a few iterations with `jit_compile=True` ends with the parameters, layer state
(spectral norm's u, batch-norm statistics) and iteration counter of the same GANModel trained without it, from the
same initial weights on the same minibatches (the method's random inputs drawn as the image trainer draws them,
in the input pipeline). Covered on the way: AltGD's stages, WGAN's clipping, spectral
norm's power iteration, the method inputs GANModel draws (instance noise, extrapolation, penalties' mixing) and
lazy regularisation across a regularised and a plain iteration (jare:every=2).

Tolerance (float32): the setting's Adam divides each gradient coordinate by its own magnitude in the first
steps, so a rounding difference in a tiny gradient coordinate moves that coordinate by up to a step size; the
test therefore bounds each variable's difference by TOLERANCE × its displacement over the iterations (plain
run), plus 1e-6 × its magnitude. Measured on a CPU at batch 2: at most about 0.5 % of the displacement on C and
E, up to 8 % with batch norm in G (A, celeba), whose statistics over 2 examples amplify rounding.
A, E and celeba run the methods whose networks differ most from C's (batch norm, ResNet with ConOpt's
second-order terms through both players, the 64×64 network): each compiled case costs 15–40 s on two cores."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods, settings
from jare_tf.training import optimizers
from jare_tf.training.gan_model import GANModel
from jare_tf.training.image_trainer import with_method_inputs

TOLERANCE = 0.2
STEPS = 2
BATCH = 2


def train(config, label: str, jit: bool, steps: int = STEPS):
    """(initial, final) values of every variable of a GANModel of `config` after `steps` iterations."""
    name, options = settings.parse_method_label(label)
    settings.set_method_options(config, name, options)
    method = settings.make_method(config, name)
    keras.utils.set_random_seed(0)
    game = settings.image_game(config, method)
    opts = optimizers.for_players(config.optimizer.g, config.optimizer.d, method.optimizer_overrides())
    model = GANModel(game, method, opts)
    model.compile(optimizer=None, steps_per_execution=steps, jit_compile=jit)
    k, size = model.updater.batches_per_step(), config.image_size
    # The minibatches as the image trainer's pipeline makes them, the method's random inputs included (drawn
    # outside the step: XLA's stateless normal and uniform give other numbers than the CPU kernels for one seed).
    per_step = []
    for step in range(steps):
        minibatches = [with_method_inputs(method, {
            "real": tf.random.stateless_uniform([BATCH, size, size, 3], [step, j], -1.0, 1.0),
            "z": tf.random.stateless_normal([BATCH, config.z_dim], [step, 100 + j])}, 0, step, j) for j in range(k)]
        per_step.append({key: tf.stack([m[key] for m in minibatches]) for key in minibatches[0]})
    data = {key: tf.stack([b[key] for b in per_step]) for key in per_step[0]}
    variables = game.generator.variables + game.discriminator.variables
    start = [v.numpy() for v in variables]
    model.fit(tf.data.Dataset.from_tensor_slices(data), steps_per_epoch=steps, verbose=0)
    return [v.path for v in variables], start, [v.numpy() for v in variables], int(model.iteration.numpy())


def assert_same_steps(setting: str, label: str):
    names, start, plain, it_plain = train(settings.load(setting), label, jit=False)
    _, start_xla, xla, it_xla = train(settings.load(setting), label, jit=True)
    assert it_plain == it_xla == STEPS
    worst = 0.0
    for name, a0, b0, a, b in zip(names, start, start_xla, plain, xla):
        np.testing.assert_array_equal(a0, b0, err_msg=f"{setting} {label} {name}: not the same initial weights")
        allowed = TOLERANCE * float(np.max(np.abs(a - a0))) + 1e-6 * float(np.max(np.abs(a)))
        difference = float(np.max(np.abs(a - b)))
        assert difference <= allowed, (setting, label, name, difference, allowed)
        worst = max(worst, difference / allowed if allowed else 0.0)
    assert any(np.any(a != a0) for a0, a in zip(start, plain)), f"{setting} {label}: nothing moved"
    return worst


@pytest.mark.parametrize("label", methods.names() + ["jare:every=2"])
def test_every_method_under_xla_ends_where_the_plain_steps_end_on_setting_c(label):
    assert_same_steps("C", label)


@pytest.mark.parametrize("setting,label", [("A", "gan"), ("E", "conopt"), ("celeba", "gan")])
def test_batch_norm_resnet_and_64x64_networks_under_xla_end_where_the_plain_steps_end(setting, label):
    assert_same_steps(setting, label)


def test_the_check_fails_on_a_different_step():
    """The comparison is not vacuous: three iterations against two differ beyond the tolerance."""
    names, start, two, _ = train(settings.load("C"), "gan", jit=False)
    _, _, three, _ = train(settings.load("C"), "gan", jit=False, steps=3)
    assert any(float(np.max(np.abs(a - b))) > TOLERANCE * float(np.max(np.abs(a - a0)))
               for a0, a, b in zip(start, two, three))


@pytest.mark.parametrize("value,expected", [("true", True), ("false", False)])
def test_config_jit_compile_chooses_xla_for_the_image_trainer(value, expected):
    from jare_tf.training.image_trainer import ImageRun
    config = settings.load("C")
    config.fake_data, config.batch_size, config.jit_compile = True, 2, value
    assert ImageRun(config, "gan").model.jit_compile is expected


def test_an_unknown_jit_compile_is_refused_with_the_choices():
    from jare_tf import config_checks
    config = settings.load("C").to_dict()
    config_checks.check_names(config, "gan", toy=False)
    with pytest.raises(ValueError, match=r"--config.jit_compile='yes'.*auto.*true or false"):
        config_checks.check_names(dict(config, jit_compile="yes"), "gan", toy=False)
