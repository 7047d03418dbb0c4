"""Image data of the image settings: CIFAR-10, CelebA, ImageNet and Fashion-MNIST from TFDS, scaled to [−1, 1], no
augmentation (as the reference, reference_spec A.2), or deterministic fake images for smoke runs and benchmarks
(`--fake_data`). Fashion-MNIST (one channel, 28×28) is padded by 2 background pixels to 32×32, so that it runs
in every 32-pixel setting A–F; offline it is prepared from Debian's idx files (`jare_tf.data.fashion_mnist`).

Every minibatch is a function of (seed, step): the real images of step s are examples s·B … s·B + B − 1 of an
infinite stream that visits the training split in a fresh seeded permutation each epoch
(a stateless argsort keyed by (seed, epoch)), and the latents of step s are drawn from a stateless RNG keyed by
(seed, step). So a run is reproducible, resumes exactly from its step, and is the same whatever number of devices
share the global batch. Splits that fit (CIFAR-10: 150 MB of uint8; CelebA at 64×64: about 2 GB) are decoded
once into memory; larger ones (ImageNet) are streamed in a seeded shuffle that a resumed run replays (`stream`).
This project's CelebA and ImageNet preprocessing (centre crop, bilinear resize) is documented in `PREPROCESS`.
"""

import dataclasses
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf

from jare_tf.data.synthetic import step_seed


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    name: str
    split: str
    #: How to prepare it when it is missing (appended to the error).
    how_to_prepare: str
    #: Size of the split (TFDS' published count), for the memory check before anything is loaded.
    num_examples: int
    channels: int = 3


DATASETS = {
    "cifar10": ImageDataset("cifar10", "train", "tfds build cifar10 --data_dir={data_dir}", 50000),
    "celeb_a": ImageDataset("celeb_a", "train", "tfds build celeb_a --data_dir={data_dir} (the files come from "
                            "Google Drive; if the download fails, place them in {data_dir}/downloads/manual)",
                            162770),
    "imagenet2012": ImageDataset("imagenet2012", "train", "download ILSVRC2012_img_train.tar from image-net.org "
                                 "into {data_dir}/downloads/manual, then tfds build imagenet2012 "
                                 "--data_dir={data_dir}", 1281167),
    "fashion_mnist": ImageDataset("fashion_mnist", "train", "apt-get install dataset-fashion-mnist && jare-prepare "
                                  "fashion_mnist --data_dir={data_dir} (offline, from Debian's idx files; online, "
                                  "tfds build fashion_mnist --data_dir={data_dir} works too)", 60000, channels=1),
}


def spec(name: str) -> ImageDataset:
    """The dataset called `name` (--config.dataset), with an error that lists the valid names."""
    if name not in DATASETS:
        raise ValueError(f"Unknown --config.dataset={name!r}; valid datasets: {', '.join(DATASETS)}.")
    return DATASETS[name]


def channels(name: str) -> int:
    return spec(name).channels


class DatasetNotPrepared(ValueError):
    pass


#: Splits up to this many bytes (as uint8) are held in memory and indexed by step; larger ones (ImageNet at 128×128
#: is 1.28M × 49 KB ≈ 63 GB) are streamed (`stream`).
MAX_IN_MEMORY_BYTES = 16 * 2 ** 30


def _centre_crop_resize(image: tf.Tensor, size: int, crop: Optional[int] = None) -> tf.Tensor:
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(h, w) if crop is None else tf.constant(crop)
    top, left = (h - side) // 2, (w - side) // 2
    image = image[top:top + side, left:left + side]
    image = tf.image.resize(image, [size, size], method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


#: Fashion-MNIST's 28×28 images are zero-padded (the background, −1 after scaling) by this much on each side.
FASHION_MNIST_PAD = 2


def _pad_fashion_mnist(image: tf.Tensor, size: int) -> tf.Tensor:
    if size != 28 + 2 * FASHION_MNIST_PAD:
        raise ValueError(f"fashion_mnist is padded to {28 + 2 * FASHION_MNIST_PAD}×{28 + 2 * FASHION_MNIST_PAD}; "
                         f"this setting's architecture makes {size}-pixel images (use a 32-pixel setting, A–F).")
    p = FASHION_MNIST_PAD
    return tf.pad(image, [[p, p], [p, p], [0, 0]])


#: Per-dataset preprocessing to uint8 of the setting's size. CIFAR-10 is used as it is (32×32). CelebA: a centre
#: 140×140 crop of the 178×218 aligned faces, resized to 64×64 (this project's choice; the paper does not say).
#: ImageNet: the largest centre square, resized to 128×128 (this project's choice). Fashion-MNIST: 2 background
#: pixels on each side (28 → 32), one channel.
PREPROCESS: Dict[str, Callable[[tf.Tensor, int], tf.Tensor]] = {
    "fashion_mnist": _pad_fashion_mnist,
    "cifar10": lambda image, size: image,
    "celeb_a": lambda image, size: _centre_crop_resize(image, size, crop=140),
    "imagenet2012": lambda image, size: _centre_crop_resize(image, size),
}


def _open(name: str, data_dir: Optional[str], split: Optional[str] = None, **as_dataset_kwargs):
    """(spec, tf.data.Dataset of a split, the training split by default) with a clear error when the dataset is
    not prepared."""
    import tensorflow_datasets as tfds
    dataset = spec(name)
    split = split or dataset.split
    builder = tfds.builder(name, data_dir=data_dir)
    try:
        return dataset, builder.as_dataset(split=split, shuffle_files=False, **as_dataset_kwargs)
    except (AssertionError, FileNotFoundError, tfds.core.registered.DatasetNotFoundError) as e:
        where = data_dir or builder.data_dir
        raise DatasetNotPrepared(
            f"Dataset {name!r} ({split} split) is not prepared under --data_dir={where}. Prepare it once with: "
            + dataset.how_to_prepare.format(data_dir=data_dir or "~/tensorflow_datasets")
            + f", or pass --data_dir where it is prepared, or train on --fake_data. ({type(e).__name__})") from None


def in_memory_bytes(name: str, image_size: int) -> int:
    dataset = spec(name)
    return dataset.num_examples * image_size * image_size * dataset.channels


def fits_in_memory(name: str, image_size: int) -> bool:
    return in_memory_bytes(name, image_size) <= MAX_IN_MEMORY_BYTES


def load_split(name: str, image_size: int, data_dir: Optional[str], split: Optional[str] = None,
               with_labels: bool = False):
    """A whole split (the training split by default) as uint8 [N, size, size, C], and with `with_labels` also
    its int64 labels [N]; a clear error when it is not prepared, and a refusal (before loading) when it would not
    fit in memory — `stream` serves those datasets."""
    needed = in_memory_bytes(name, image_size)
    if needed > MAX_IN_MEMORY_BYTES:
        raise ValueError(
            f"{name} at {image_size}×{image_size} needs {needed / 2 ** 30:.0f} GiB in memory, more than "
            f"{MAX_IN_MEMORY_BYTES / 2 ** 30:.0f} GiB; use the streaming pipeline (images.stream), which the "
            f"trainer picks for it automatically.")
    dataset, ds = _open(name, data_dir, split)
    examples = ds.map(lambda ex: (PREPROCESS[name](ex["image"], image_size), ex.get("label", -1)),
                      num_parallel_calls=tf.data.AUTOTUNE)
    parts = list(examples.batch(1024).as_numpy_iterator())
    array = np.concatenate([p[0] for p in parts], axis=0)
    expected = (image_size, image_size, dataset.channels)
    if array.shape[1:] != expected:
        raise ValueError(f"{name} images are {array.shape[1:]}, expected {expected}.")
    if with_labels:
        return array, np.concatenate([p[1] for p in parts], axis=0)
    return array


#: Shuffle buffer of the streaming pipeline (the reference's queue keeps 10,000 examples, reference_spec A.2).
STREAM_SHUFFLE_BUFFER = 10000


def stream(name: str, image_size: int, data_dir: Optional[str], seed: int, batch_size: int,
           start_minibatch: int = 0) -> tf.data.Dataset:
    """uint8 minibatches [B, size, size, C] of an endless, seeded shuffle of the split, starting at minibatch
    `start_minibatch`, for datasets too large for memory (ImageNet). The order is a deterministic function of
    the seed; resuming replays it up to the start on the still-encoded records (skip before decoding), which
    takes minutes after hundreds of thousands of steps but continues exactly where the run stopped."""
    import tensorflow_datasets as tfds
    _, ds = _open(name, data_dir, decoders={"image": tfds.decode.SkipDecoding()})
    decoder = tfds.builder(name, data_dir=data_dir).info.features["image"]
    ds = ds.map(lambda ex: ex["image"]).repeat().shuffle(STREAM_SHUFFLE_BUFFER, seed=seed,
                                                         reshuffle_each_iteration=True)
    ds = ds.skip(int(start_minibatch) * batch_size)
    ds = ds.map(lambda encoded: PREPROCESS[name](decoder.decode_example(encoded), image_size),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=True)


def to_unit_range(images_uint8: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] → float32 [−1, 1] (x/127.5 − 1, the reference's 2·(x/255) − 1)."""
    return tf.cast(images_uint8, tf.float32) / 127.5 - 1.0


def epoch_permutation(n: tf.Tensor, epoch: tf.Tensor, seed: int) -> tf.Tensor:
    """The order in which epoch `epoch` visits the n examples (a stateless function of seed and epoch)."""
    key = tf.random.experimental.stateless_fold_in(tf.constant([seed, 0x0DA7A], tf.int32), epoch)
    return tf.argsort(tf.random.stateless_uniform(tf.reshape(n, [1]), key))


def permuted_batch(images: tf.Tensor, step: tf.Tensor, batch_size: int, seed: int) -> tf.Tensor:
    """Examples step·B … step·B + B − 1 of the stream that runs through `images` in a new permutation per epoch
    (a batch spans at most two epochs when B ≤ n)."""
    n = tf.cast(tf.shape(images)[0], tf.int64)
    index = tf.cast(step, tf.int64) * batch_size + tf.range(batch_size, dtype=tf.int64)
    epoch, position = index // n, index % n
    first = epoch_permutation(n, epoch[0], seed)
    second = epoch_permutation(n, epoch[-1], seed)
    order = tf.where(epoch == epoch[0], tf.gather(first, position), tf.gather(second, position))
    return tf.gather(images, order)


def fake_images(step: tf.Tensor, batch_size: int, image_size: int, seed: int, channels: int = 3) -> tf.Tensor:
    """Deterministic random images in [−1, 1] for step `step` (smoke runs and benchmarks)."""
    return tf.random.stateless_uniform([batch_size, image_size, image_size, channels],
                                       step_seed(seed + 1, step, 99), -1.0, 1.0)


def latents(step: tf.Tensor, k: int, batch_size: int, z_dim: int, seed: int) -> tf.Tensor:
    """z ~ N(0, I) for the k-th minibatch of step `step`."""
    return tf.random.stateless_normal([batch_size, z_dim], step_seed(seed, step, k))
