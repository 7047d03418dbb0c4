"""Image training: TFDS pipelines (tfds.testing.mock_data), fake data, two steps of every method on A, C and E,
exact resume, and the missing-dataset error."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from jare_tf import methods, settings
from jare_tf.data import images
from jare_tf.training import resume
from jare_tf.training.image_trainer import ImageRun


def tiny(setting, **overrides):
    c = settings.load(setting)
    c.fake_data, c.batch_size, c.steps_per_execution = True, 2, 1
    c.log_every, c.sample_every, c.checkpoint_every = 1, 0, 0
    for key, value in overrides.items():
        c[key] = value
    return c


def flat_params(run):
    return np.concatenate([np.ravel(v.numpy()) for v in run.model.generator.trainable_variables
                           + run.model.discriminator.trainable_variables])


#: Settings A and E differ from C in their architectures (batch norm, ResNet blocks); there every way a method
#: touches the networks is trained once: first-order (gan), spectral norm (sngan), double backprop through G and D
#: (jare; conopt differs only in which Hessian blocks it keeps), an input-gradient penalty through batch norm
#: (wgan_gp, on interpolates; r1 is the same on real inputs), several stages (altgd). Every method trains on C.
ARCHITECTURE_METHODS = ("gan", "sngan", "jare", "wgan_gp", "altgd")


@pytest.mark.parametrize("setting", ["A", "C", "E"])
def test_two_training_steps_for_every_method(setting, tmp_path):
    for name in methods.names() if setting == "C" else ARCHITECTURE_METHODS:
        run = ImageRun(tiny(setting, num_steps=2), name)
        before = flat_params(run)
        result = run.train(str(tmp_path / name), log=lambda s: None, verbose=0)
        after = flat_params(run)
        assert result["step"] == 2, name
        assert np.all(np.isfinite(after)) and not np.allclose(before, after), name
        metrics = json.load(open(tmp_path / name / "metrics.json"))
        assert metrics["step"] == 2 and "loss/d" in metrics


@pytest.mark.parametrize("method", ["jare", "altgd", "wgan_gp"])
def test_a_resumed_run_ends_with_the_parameters_of_an_uninterrupted_one(method, tmp_path):
    straight = ImageRun(tiny("C", num_steps=4), method)
    straight.train(str(tmp_path / "straight"), log=lambda s: None, verbose=0)
    first = ImageRun(tiny("C", num_steps=2), method)
    first.train(str(tmp_path / "resumed"), log=lambda s: None, verbose=0)
    messages = []
    second = ImageRun(tiny("C", num_steps=4), method)
    second.train(str(tmp_path / "resumed"), log=messages.append, verbose=0)
    assert any("Resuming" in m and "step 2" in m for m in messages)
    np.testing.assert_allclose(flat_params(second), flat_params(straight), rtol=0, atol=1e-6)
    # Both optimizers' state was restored too: their iteration counters match.
    assert int(second.model.d_optimizer.iterations.numpy()) == int(straight.model.d_optimizer.iterations.numpy())


def test_a_run_stored_in_the_earlier_config_shape_resumes(tmp_path, monkeypatch):
    """config.json and the checkpoints of earlier versions held `method` as the name, `method_options` and a
    top-level `family`: such a run resumes (compared key by key in the new shape), and both are then written in
    the new one."""
    def earlier_shape(config, method, family):
        return dict(config.to_dict(), method=method, family=family,
                    method_options=settings.method_options(config, method))

    workdir = str(tmp_path / "run")
    with monkeypatch.context() as patch:
        patch.setattr(settings, "run_config", earlier_shape)
        ImageRun(tiny("C", num_steps=2), "jare").train(workdir, log=lambda s: None, verbose=0)
    assert json.load(open(tmp_path / "run" / "config.json"))["method_options"]["gamma"] == 100.0
    messages = []
    result = ImageRun(tiny("C", num_steps=4), "jare").train(workdir, log=messages.append, verbose=0)
    assert result["step"] == 4 and any("Resuming" in m and "step 2" in m for m in messages), messages
    saved = json.load(open(tmp_path / "run" / "config.json"))
    assert saved["method"]["options"]["jare"]["gamma"] == 100.0 and "method_options" not in saved
    assert resume.stored_config(tf.train.latest_checkpoint(tmp_path / "run" / "checkpoints")) == saved


def test_tfds_pipeline_on_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=24):
        array = images.load_split("cifar10", 32, None)
        assert array.shape == (24, 32, 32, 3) and array.dtype == np.uint8
        run = ImageRun(tiny("C", num_steps=2, fake_data=False), "gan")
        batch = next(iter(run.dataset(0, 2)))
        assert batch["real"].shape == (1, 2, 32, 32, 3) and batch["z"].shape == (1, 2, 128)
        assert float(tf.reduce_min(batch["real"])) >= -1.0 and float(tf.reduce_max(batch["real"])) <= 1.0
        assert run.train(str(tmp_path / "mock"), log=lambda s: None, verbose=0)["step"] == 2


def test_data_order_is_a_function_of_the_step():
    real = tf.constant(np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1).repeat(3, -1))
    stream = np.concatenate([images.permuted_batch(real, s, 4, 7).numpy()[:, 0, 0, 0] for s in range(5)])
    assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:20]) == list(range(10))
    assert list(stream[:10]) != list(stream[10:20])            # a new permutation each epoch
    np.testing.assert_array_equal(images.permuted_batch(real, 3, 4, 7), images.permuted_batch(real, 3, 4, 7))
    z = images.latents(tf.constant(5, tf.int64), 0, 3, 4, seed=1)
    np.testing.assert_array_equal(z, images.latents(tf.constant(5, tf.int64), 0, 3, 4, seed=1))


def test_missing_dataset_names_the_dataset_the_folder_and_the_fix(tmp_path):
    with pytest.raises(images.DatasetNotPrepared) as e:
        images.load_split("cifar10", 32, str(tmp_path))
    message = str(e.value)
    assert "cifar10" in message and str(tmp_path) in message and "tfds build cifar10" in message
    with pytest.raises(images.DatasetNotPrepared, match="cifar10"):
        ImageRun(tiny("C", fake_data=False, data_dir=str(tmp_path)), "gan")


@pytest.mark.parametrize("name, size", [("celeb_a", 64), ("imagenet2012", 128)])
def test_celeba_and_imagenet_preprocessing_on_mock_data(name, size, monkeypatch):
    monkeypatch.setattr(images, "MAX_IN_MEMORY_BYTES", 2 ** 40)
    with tfds.testing.mock_data(num_examples=3):
        array = images.load_split(name, size, None)
    assert array.shape == (3, size, size, 3) and array.dtype == np.uint8


def test_imagenet_is_streamed_not_loaded_and_a_stream_resumes_exactly(tmp_path, monkeypatch):
    with tfds.testing.mock_data(num_examples=12):
        with pytest.raises(ValueError, match="streaming pipeline"):
            images.load_split("imagenet2012", 128, None)
        assert not images.fits_in_memory("imagenet2012", 128)
        monkeypatch.setattr(images, "STREAM_SHUFFLE_BUFFER", 8)
        whole = [b for b in images.stream("imagenet2012", 128, None, seed=3, batch_size=2).take(6)
                 .as_numpy_iterator()]
        assert whole[0].shape == (2, 128, 128, 3) and whole[0].dtype == np.uint8
        resumed = list(images.stream("imagenet2012", 128, None, seed=3, batch_size=2, start_minibatch=4)
                       .take(2).as_numpy_iterator())
        np.testing.assert_array_equal(np.stack(resumed), np.stack(whole[4:6]))
        # The trainer picks the stream for it (a streamed CelebA-sized run here, via a small memory limit).
        monkeypatch.setattr(images, "MAX_IN_MEMORY_BYTES", 1)
        run = ImageRun(tiny("celeba", num_steps=2, fake_data=False, batch_size=2), "gan")
        assert run.streamed and run.train(str(tmp_path / "streamed"), log=lambda s: None, verbose=0)["step"] == 2


def test_spectrum_every_logs_the_krylov_spectrum_of_the_applied_update(tmp_path):
    """spectrum_every = 2 on a 4-step run: at steps 2 and 4 the top-3 |λ|, ζ, η_max, the number of converged Ritz
    values and the operator products as scalars, and the eigenvalue scatter as an image."""
    import os
    c = tiny("C", num_steps=4)
    c.spectrum_every, c.spectrum_k = 2, 3
    ImageRun(c, "jare").train(str(tmp_path), log=lambda line: None, verbose=0)
    seen = {}
    for name in os.listdir(tmp_path / "train"):
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "train" / name)):
            for v in event.summary.value:
                if v.tag.startswith("spectrum/"):
                    seen.setdefault(v.tag, []).append(event.step)
    for tag in ("spectrum/max_abs", "spectrum/converged", "spectrum/matvecs", "spectrum/eigenvalues"):
        assert seen.get(tag) == [2, 4], (tag, seen)



def test_progress_rate_leaves_out_the_first_execution_that_traces_the_step(monkeypatch):
    """The first execution holds tracing: the rate and ETA count from its end, and read "?" until the next."""
    import io
    import types
    from jare_tf.training import image_trainer

    clock = {"now": 0.0}
    monkeypatch.setattr(image_trainer.time, "perf_counter", lambda: clock["now"])
    iteration = tf.Variable(0, dtype=tf.int64)
    run = types.SimpleNamespace(model=types.SimpleNamespace(iteration=iteration),
                                config=types.SimpleNamespace(log_every=1))
    out = io.StringIO()
    progress = image_trainer.Progress(run, stop=30, out=out)
    progress.on_train_begin()
    clock["now"], _ = 12.0, iteration.assign(10)        # 10 steps, with 11 s of tracing in them
    progress.on_train_batch_end(0, {"loss/d": 1.0})
    clock["now"], _ = 14.0, iteration.assign(20)        # then 10 steps in 2 s: 5 steps/s, 10 steps left
    progress.on_train_batch_end(1, {"loss/d": 1.0})
    first, second = out.getvalue().splitlines()
    assert first.endswith("? steps/s  ETA ?"), first
    assert second.endswith("5.00 steps/s  ETA 2s"), second
    # A run done in one execution ends on the rate of that call and ETA 0s.
    out, clock["now"], _ = io.StringIO(), 0.0, iteration.assign(0)
    progress = image_trainer.Progress(run, stop=8, out=out)
    progress.on_train_begin()
    clock["now"], _ = 4.0, iteration.assign(8)
    progress.on_train_batch_end(0, {"loss/d": 1.0})
    assert out.getvalue().strip().endswith("step 8/8 (100%)  loss/d 1  2.00 steps/s  ETA 0s"), out.getvalue()
