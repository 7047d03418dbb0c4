"""Fashion-MNIST from Debian's idx files: verification of each file (header, size, content hash), the TFDS
dataset prepared from them against the raw idx bytes decoded here with numpy, the 32×32 padding, and the errors
for missing, truncated, altered and unknown data."""

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from jare_tf.data import fashion_mnist, images

DEBIAN = fashion_mnist.DEBIAN_DIR


def raw(name):
    """The decompressed bytes of an original file, read directly (independent of the module under test)."""
    with gzip.open(os.path.join(DEBIAN, name + ".gz"), "rb") as f:
        return f.read()


@pytest.fixture
def source(tmp_path, fashion_mnist_data_dir):
    """A copy of the four original files that a test may damage."""
    folder = tmp_path / "idx"
    folder.mkdir()
    for spec in fashion_mnist.FILES.values():
        shutil.copyfile(os.path.join(DEBIAN, spec.name + ".gz"), folder / (spec.name + ".gz"))
    return folder


def write_gz(folder, name, content):
    with gzip.open(folder / (name + ".gz"), "wb") as f:
        f.write(content)


LABELS = "t10k-labels-idx1-ubyte"


@pytest.mark.parametrize("damage, expected", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: struct.pack(">I", 2051) + b[4:], "magic number 2051"),
    (lambda b: b[:4] + struct.pack(">I", 9999) + b[8:-1], "9999 items"),
    (lambda b: b[:100] + bytes([(b[100] + 1) % 10]) + b[101:], "altered"),
    (lambda b: b + b"\0", "padded"),
])
def test_a_damaged_idx_file_is_refused_with_its_name_and_the_fix(source, tmp_path, damage, expected):
    write_gz(source, LABELS, damage(raw(LABELS)))
    with pytest.raises(fashion_mnist.IdxFileError) as e:
        fashion_mnist.verify_file(str(source), fashion_mnist.FILES["test_labels"], str(tmp_path))
    message = str(e.value)
    assert expected in message and LABELS in message and "dataset-fashion-mnist" in message


def test_a_missing_file_and_a_broken_gzip_are_refused(source, tmp_path):
    spec = fashion_mnist.FILES["test_data"]
    (source / (spec.name + ".gz")).write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(fashion_mnist.IdxFileError, match="cannot be decompressed"):
        fashion_mnist.verify_file(str(source), spec, str(tmp_path))
    os.remove(source / (spec.name + ".gz"))
    with pytest.raises(fashion_mnist.IdxFileError, match="is missing.*apt-get install dataset-fashion-mnist"):
        fashion_mnist.verify_file(str(source), spec, str(tmp_path))


def test_jare_prepare_reports_a_truncated_image_file_without_a_traceback(source, tmp_path):
    name = "train-images-idx3-ubyte"
    write_gz(source, name, raw(name)[:1_000_000])
    proc = subprocess.run([sys.executable, "-m", "jare_tf.prepare", "fashion_mnist", f"--source={source}",
                           f"--data_dir={tmp_path / 'tfds'}"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 1 and name in proc.stderr and "truncated" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "tfds" / "fashion_mnist").exists()


def idx_images(name):
    b = raw(name)
    magic, n, h, w = struct.unpack(">IIII", b[:16])
    assert (magic, h, w) == (2051, 28, 28)
    return np.frombuffer(b[16:], np.uint8).reshape(n, 28, 28)


@pytest.mark.parametrize("split, prefix, n", [("train", "train", 60000), ("test", "t10k", 10000)])
def test_prepared_dataset_is_the_idx_content_padded_to_32(fashion_mnist_data_dir, split, prefix, n):
    array, labels = images.load_split("fashion_mnist", 32, fashion_mnist_data_dir, split=split, with_labels=True)
    assert array.shape == (n, 32, 32, 1) and array.dtype == np.uint8
    # TFDS stores the examples in its own (hashed-key) order: compare the multisets of (image, label) pairs.
    expected_labels = np.frombuffer(raw(f"{prefix}-labels-idx1-ubyte")[8:], np.uint8)
    pairs = sorted((hashlib.sha1(x.tobytes()).digest(), int(y)) for x, y in zip(array[:, 2:30, 2:30, 0], labels))
    expected = sorted((hashlib.sha1(x.tobytes()).digest(), int(y))
                      for x, y in zip(idx_images(f"{prefix}-images-idx3-ubyte"), expected_labels))
    assert pairs == expected
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert not array[:, border, 0].any()                         # the background value: −1 after scaling
    assert float(images.to_unit_range(array[:1, 0, 0]).numpy().ravel()[0]) == -1.0


def test_preparing_again_does_nothing(fashion_mnist_data_dir):
    lines = []
    fashion_mnist.prepare(fashion_mnist_data_dir, log=lines.append)
    assert len(lines) == 1 and "already prepared" in lines[0]


def test_missing_dataset_error_gives_the_preparation_command(tmp_path):
    with pytest.raises(images.DatasetNotPrepared) as e:
        images.load_split("fashion_mnist", 32, str(tmp_path))
    assert "jare-prepare fashion_mnist" in str(e.value) and "apt-get install dataset-fashion-mnist" in str(e.value)


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(ValueError) as e:
        images.spec("mnist")
    assert "--config.dataset='mnist'" in str(e.value)
    assert all(name in str(e.value) for name in ("cifar10", "fashion_mnist", "celeb_a", "imagenet2012"))


def test_fashion_mnist_refuses_a_64_pixel_setting(fashion_mnist_data_dir):
    with pytest.raises(ValueError, match="32-pixel setting"):
        images.load_split("fashion_mnist", 64, fashion_mnist_data_dir, split="test")
