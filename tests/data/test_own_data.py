"""Your own data (issue 27): --config.dataset=folder:<path> and tfds:<name>. A folder of PNGs written from
Fashion-MNIST gives the minibatches of Fashion-MNIST restricted to those images, resumes exactly, in memory and
streamed; tfds:fashion_mnist gives Fashion-MNIST's; tfds.testing.mock_data datasets are brought to the setting's
resolution by the documented rule (checked against a numpy reference: crop and antialiased bilinear resize for a
3-channel dataset of another resolution, padding for a greyscale one); and bad input is refused with the name and
the fix."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from jare_tf import settings
from jare_tf.data import images
from jare_tf.evaluation import classifier, domain_classifier
from jare_tf.evaluation.evaluator import PROTOCOLS, Evaluator
from jare_tf.training.image_trainer import ImageRun

N = 64


def tiny(dataset, data_dir, **overrides):
    c = settings.load("C")
    c.dataset, c.data_dir, c.batch_size, c.steps_per_execution = dataset, data_dir, 8, 1
    c.log_every, c.sample_every, c.checkpoint_every = 1, 0, 0
    for key, value in overrides.items():
        c[key] = value
    return c


def write_pngs(folder, array):
    os.makedirs(folder, exist_ok=True)
    for i, image in enumerate(array):
        tf.io.write_file(os.path.join(folder, f"{i:05d}.png"), tf.io.encode_png(image))


@pytest.fixture(scope="module")
def fashion(fashion_mnist_data_dir, tmp_path_factory):
    """Fashion-MNIST's training split (padded to 32) and a folder of its first N images as 28×28 PNGs."""
    array = images.load_split("fashion_mnist", 32, fashion_mnist_data_dir)
    folder = str(tmp_path_factory.mktemp("pngs"))
    write_pngs(folder, array[:N, 2:30, 2:30])
    return {"array": array, "folder": folder, "data_dir": fashion_mnist_data_dir}


def batches(run, start, stop):
    return [b["real"].numpy() for b in run.global_batches(start, stop)]


def test_a_folder_gives_the_minibatches_of_fashion_mnist_restricted_to_its_images(fashion):
    run = ImageRun(tiny("folder:" + fashion["folder"], fashion["data_dir"], num_steps=20), "gan")
    np.testing.assert_array_equal(run.real.numpy(), fashion["array"][:N])
    restricted = tf.constant(fashion["array"][:N])
    got = batches(run, 0, 20)                        # 20 steps of 8: 2.5 epochs of the 64 images
    for step in (0, 7, 8, 19):
        expected = images.to_unit_range(images.permuted_batch(restricted, step, 8, run.config.seed)).numpy()
        np.testing.assert_array_equal(got[step][0], expected)
    assert run.game.generator.output_shape[-1] == 1


def test_tfds_fashion_mnist_gives_the_minibatches_of_fashion_mnist(fashion):
    run = ImageRun(tiny("tfds:fashion_mnist", fashion["data_dir"], num_steps=3), "gan")
    assert run.data.num_examples == 60000 and run.data.num_classes == 10
    np.testing.assert_array_equal(run.real.numpy(), fashion["array"])
    builtin = tf.constant(fashion["array"])
    for step, got in enumerate(batches(run, 0, 3)):
        np.testing.assert_array_equal(got[0], images.to_unit_range(images.permuted_batch(builtin, step, 8, 125)))


def test_a_folder_run_resumes_exactly_and_is_scored(fashion, tmp_path):
    folder = "folder:" + fashion["folder"]
    straight = ImageRun(tiny(folder, fashion["data_dir"], num_steps=4), "gan")
    straight.train(str(tmp_path / "straight"), log=lambda s: None, verbose=0)
    ImageRun(tiny(folder, fashion["data_dir"], num_steps=2), "gan").train(str(tmp_path / "resumed"),
                                                                           log=lambda s: None, verbose=0)
    second = ImageRun(tiny(folder, fashion["data_dir"], num_steps=4), "gan")
    second.train(str(tmp_path / "resumed"), log=lambda s: None, verbose=0)
    for a, b in zip(second.model.generator.weights + second.model.discriminator.weights,
                    straight.model.generator.weights + straight.model.discriminator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # jare-eval's Evaluator: the real statistics of the folder, cached under its file-list hash.
    protocol = dataclasses.replace(PROTOCOLS["default"], name="small", n_fake=128, splits=2)
    stats = tmp_path / "stats"
    record = Evaluator(str(tmp_path / "straight"), classifier.stand_in(), protocol, stats_dir=str(stats)).evaluate(
        4, str(tmp_path / "straight" / "checkpoints" / "ckpt-4"))
    assert record["provenance"]["n_real"] == N and record["provenance"]["reference_split"] == folder + "/files"
    assert np.isfinite(record["fid"]) and record["fid"] > 0
    (cached,) = os.listdir(stats)
    assert cached.startswith("folder_") and "/" not in cached
    with np.load(stats / cached) as f:
        assert straight.data.identity[0][1] in str(f["key"])


def test_a_large_folder_streams_and_a_resumed_stream_continues_exactly(fashion, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_IN_MEMORY_BYTES", 1)
    monkeypatch.setattr(images, "STREAM_SHUFFLE_BUFFER", 16)
    run = ImageRun(tiny("folder:" + fashion["folder"], fashion["data_dir"], num_steps=6), "gan")
    assert run.streamed and run.real is None
    whole = batches(run, 0, 6)
    np.testing.assert_array_equal(np.stack(batches(run, 4, 6)), np.stack(whole[4:6]))
    originals = {x.tobytes() for x in images.to_unit_range(fashion["array"][:N]).numpy()}
    assert all(x.tobytes() in originals for b in whole for x in b[0])


def resize_reference(image, size):
    """Centre square crop, then TF's antialiased bilinear resize written out in numpy (float64): a triangle filter
    of radius max(1, in/out) input pixels around each output pixel's centre, normalised over the pixels inside
    the image, then rounded and clipped to uint8."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top:top + side, left:left + side].astype(np.float64)
    scale = max(side / size, 1.0)
    weights = np.zeros((size, side))
    for i in range(size):
        centre = (i + 0.5) * side / size
        weights[i] = np.maximum(0.0, 1.0 - np.abs((np.arange(side) + 0.5 - centre) / scale))
        weights[i] /= weights[i].sum()
    return np.einsum("ih,hwc,jw->ijc", weights, crop, weights)


def assert_rounds_to(got, exact):
    """`got` is `exact` rounded, pixel for pixel; within 1e-3 of a .5 boundary (where float32 may round the
    other way) either neighbour is accepted."""
    rounded = np.clip(np.round(exact), 0, 255)
    near_half = np.abs(exact - np.floor(exact) - 0.5) < 1e-3
    assert np.array_equal(got[~near_half], rounded[~near_half])
    assert np.all(np.abs(got[near_half].astype(float) - exact[near_half]) <= 0.5 + 1e-3)
    assert near_half.mean() < 0.01


def test_a_3_channel_tfds_dataset_of_another_resolution_is_cropped_and_resized(monkeypatch):
    monkeypatch.setattr(images, "MAX_IN_MEMORY_BYTES", 2 ** 40)
    with tfds.testing.mock_data(num_examples=3):
        raw = np.stack([e["image"] for e in tfds.load("celeb_a", split="train").as_numpy_iterator()])
        data = images.resolve("tfds:celeb_a")
        got = images.load_split(data, 32, None)
    assert raw.shape == (3, 218, 178, 3) and got.shape == (3, 32, 32, 3) and data.channels == 3
    for image, converted in zip(raw, got):
        assert_rounds_to(converted, resize_reference(image, 32))


def test_a_greyscale_tfds_dataset_is_padded_and_trains(tmp_path):
    with tfds.testing.mock_data(num_examples=16):
        raw = np.stack([e["image"] for e in tfds.load("mnist", split="train").as_numpy_iterator()])
        run = ImageRun(tiny("tfds:mnist", "", num_steps=2, batch_size=4), "gan")
        np.testing.assert_array_equal(run.real.numpy(), np.pad(raw, [[0, 0], [2, 2], [2, 2], [0, 0]]))
        assert run.game.generator.output_shape[-1] == 1
        assert run.train(str(tmp_path / "mnist"), log=lambda s: None, verbose=0)["step"] == 2


def test_smaller_images_are_never_enlarged_longer_sides_are_centre_cropped():
    image = np.arange(20 * 40 * 3).reshape(20, 40, 3).astype(np.uint8)
    got = images.fit_to_size(tf.constant(image), 32).numpy()
    expected = np.zeros((32, 32, 3), np.uint8)
    expected[6:26] = image[:, 4:36]
    np.testing.assert_array_equal(got, expected)
    square = np.full((32, 32, 1), 7, np.uint8)
    np.testing.assert_array_equal(images.fit_to_size(tf.constant(square), 32).numpy(), square)


def test_a_domain_classifier_trains_on_a_labelled_tfds_dataset_and_loads_by_path(tmp_path):
    cache = str(tmp_path / "classifier")
    with tfds.testing.mock_data(num_examples=64):
        info = domain_classifier.train(None, cache, log=lambda s: None, epochs=2, dataset="tfds:mnist",
                                       image_size=32, min_accuracy=0.0)
        with pytest.raises(ValueError, match="no label feature"):
            domain_classifier.train(None, str(tmp_path / "x"), log=lambda s: None, epochs=1,
                                    dataset="tfds:celeb_a", image_size=32)
    assert info["dataset"] == "tfds:mnist" and info["classes"] == 10 and info["channels"] == 1
    loaded = domain_classifier.load_path(cache)
    assert loaded.sha256 == info["sha256"] and loaded.provenance["classifier_dataset"] == "tfds:mnist"
    assert loaded.provenance["classifier_test_accuracy"] == info["test_accuracy"]
    assert loaded.fn(tf.zeros([2, 32, 32, 1]))["logits"].shape == (2, 10)
    with pytest.raises(ValueError, match="takes 32×32×1 images"):
        loaded.fn(tf.zeros([2, 32, 32, 3]))


# --- bad input: refused before training, with the name and the fix ---------------------------------------------

def test_an_unknown_tfds_name_and_a_dataset_without_images_are_refused():
    with pytest.raises(ValueError, match=r"TFDS has no dataset 'fashon_mnist' \(did you mean 'tfds:fashion_mnist'"):
        images.resolve("tfds:fashon_mnist")
    with pytest.raises(ValueError, match="imdb_reviews has no image feature .*text, label.*pick an image dataset"):
        images.resolve("tfds:imdb_reviews")
    with pytest.raises(ValueError, match="--config.image_key=picture: .*no image feature 'picture'; its image "
                                         "features: image"):
        images.resolve("tfds:mnist", image_key="picture")


def test_an_unknown_split_and_an_unprepared_dataset_say_what_to_do(fashion, tmp_path):
    with pytest.raises(ValueError, match="no split 'valid'; its splits: .*train.*test"):
        images.resolve("tfds:fashion_mnist:valid", fashion["data_dir"])
    with pytest.raises(images.DatasetNotPrepared, match="tfds build mnist --data_dir="):
        ImageRun(tiny("tfds:mnist", str(tmp_path)), "gan")


def test_bad_folders_and_files_are_refused_with_their_names(tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match="holds no image"):
        ImageRun(tiny(f"folder:{empty}", ""), "gan")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        images.resolve(f"folder:{empty / 'notes.txt'}")
    bad = tmp_path / "bad"
    write_pngs(str(bad), np.zeros((3, 8, 8, 1), np.uint8))
    (bad / "00001.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=f"{bad / '00001.png'} cannot be read as an image .*delete or replace it"):
        images.resolve(f"folder:{bad}")
    truncated = (bad / "00000.png").read_bytes()
    (bad / "00001.png").write_bytes(truncated[:40])                      # a valid header, no pixels
    with pytest.raises(ValueError, match=f"{bad / '00001.png'} cannot be decoded"):
        ImageRun(tiny(f"folder:{bad}", ""), "gan")
    mixed = tmp_path / "mixed"
    write_pngs(str(mixed), np.zeros((2, 8, 8, 1), np.uint8))
    tf.io.write_file(str(mixed / "rgb.png"), tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="mixes greyscale and colour images .*convert them to one kind"):
        images.resolve(f"folder:{mixed}")
    rgba = tmp_path / "rgba"                                               # alpha is dropped: RGBA and RGB mix
    write_pngs(str(rgba), np.full((2, 8, 8, 4), 9, np.uint8))
    tf.io.write_file(str(rgba / "rgb.png"), tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)))
    assert images.resolve(f"folder:{rgba}").channels == 3
    assert images.load_split(images.resolve(f"folder:{rgba}"), 8, None).shape == (3, 8, 8, 3)
