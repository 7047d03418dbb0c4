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

Your own data (`jare_tf.data.own_data`, docs/own_data.md) goes through the same minibatches, memory check and
stream: `from_config` resolves --config.dataset=tfds:<name>[/<config>][:<split>] (the image feature from the
builder's info, or --config.image_key) and folder:<path> (a sorted list of PNG/JPEG files, every one decoded
once before training) to an `ImageDataset`, and every image is brought to the setting's resolution by
`fit_to_size`. The four built-in names keep their own `PREPROCESS` and code path, so their minibatches do not
change.
"""

import dataclasses
import difflib
import hashlib
import os
from typing import Callable, Dict, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from jare_tf.data import own_data
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
    #: "builtin" (DATASETS), "tfds" (tfds:<name>) or "folder" (folder:<path>).
    kind: str = "builtin"
    #: The --config.dataset value (the built-in datasets: their name).
    dataset: str = ""
    #: The TFDS feature that holds the image.
    image_key: str = "image"
    #: A folder's images: sorted paths relative to `name`, the folder (the order the minibatches index).
    files: Tuple[str, ...] = ()
    #: What identifies the data besides dataset and split (cached real statistics): a TFDS dataset's version and
    #: image feature, a folder's file-list hash (relative paths, sizes and modification times).
    identity: Tuple[Tuple[str, str], ...] = ()
    #: The number of classes of its "label" feature (TFDS), 0 when it has none.
    num_classes: int = 0

    def paths(self):
        return [self.name.rstrip("/") + "/" + f for f in self.files]


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
        raise ValueError(f"Unknown --config.dataset={name!r}; valid datasets: {', '.join(DATASETS)}, or your "
                         f"own: tfds:<name>[/<config>][:<split>], folder:<path>.")
    return DATASETS[name]


#: A dataset as the functions below take it: a built-in name or a resolved ImageDataset (`from_config`).
Data = Union[str, ImageDataset]


def _dataset(name: Data) -> ImageDataset:
    return spec(name) if isinstance(name, str) else name


def channels(name: Data) -> int:
    return _dataset(name).channels


def from_config(config) -> ImageDataset:
    """The dataset of a config (a ConfigDict or a stored config.json): a built-in one as DATASETS has it, your own
    one resolved (`resolve`) with the config's data_dir and image_key."""
    name = config["dataset"]
    if not own_data.is_own(name):
        return spec(name)
    return resolve(name, config.get("data_dir") or None, config.get("image_key") or "")


def resolve(dataset: str, data_dir: Optional[str] = None, image_key: str = "") -> ImageDataset:
    """--config.dataset=tfds:… or folder:… as an ImageDataset, each problem refused (ValueError, or
    DatasetNotPrepared with the command that prepares it) with the name and the fix: an unknown TFDS name,
    config or split, a dataset without an image feature, a folder that is missing, a file or empty, a file
    that is not a readable PNG/JPEG, greyscale and colour images mixed."""
    own = own_data.parse(dataset)
    if own.kind == "folder":
        return _resolve_folder(dataset, own)
    return _resolve_tfds(dataset, own, data_dir, image_key)


def _resolve_folder(dataset: str, own: own_data.OwnName) -> ImageDataset:
    problem = own_data.problem(dataset)
    if problem:
        raise ValueError(problem)
    remote = "://" in own.path
    if remote and not tf.io.gfile.isdir(own.path):
        raise ValueError(f"--config.dataset={dataset}: {own.path} is not a folder; pass the folder that holds "
                         f"the images.")
    files = tuple(own_data.list_images(own.path))
    if not files:
        raise ValueError(f"--config.dataset={dataset}: {own.path} holds no image (no .png, .jpg or .jpeg file); "
                         f"put the images there, or pass the folder that holds them.")
    count = own_data.channels(own.path, list(files), (lambda p: tf.io.gfile.GFile(p, "rb")) if remote else None)
    digest = hashlib.sha256()
    for relative in files:
        stat = tf.io.gfile.stat(own.path + "/" + relative) if remote else os.stat(os.path.join(own.path, relative))
        size, mtime = (stat.length, stat.mtime_nsec) if remote else (stat.st_size, stat.st_mtime_ns)
        digest.update(f"{relative}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
    return ImageDataset(own.path, "files", f"put PNG/JPEG images under {own.path}", len(files), count, "folder",
                        dataset, files=files, identity=(("files_sha256", digest.hexdigest()),))


def _resolve_tfds(dataset: str, own: own_data.OwnName, data_dir: Optional[str], image_key: str) -> ImageDataset:
    import tensorflow_datasets as tfds
    flag = f"--config.dataset={dataset}"
    try:
        builder = tfds.builder(own.name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        base = own.name.split("/")[0]
        close = difflib.get_close_matches(base, tfds.list_builders(), n=3)
        hint = f" (did you mean {' or '.join(repr('tfds:' + c) for c in close)}?)" if close else ""
        raise ValueError(f"{flag}: TFDS has no dataset {base!r}{hint}; name one of tfds.list_builders() (the "
                         f"catalog: https://www.tensorflow.org/datasets/catalog), e.g. tfds:mnist, tfds:cifar100, "
                         f"or give a folder of images as folder:<path>.") from None
    except ValueError as e:                       # e.g. a config the builder does not have
        raise ValueError(f"{flag}: {str(e).splitlines()[0]} Write tfds:<name>/<config> with one of the "
                         f"builder's configs.") from None
    features = builder.info.features
    found = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    if image_key and image_key not in found:
        raise ValueError(f"--config.image_key={image_key}: {dataset} has no image feature {image_key!r}; its image "
                         f"features: {', '.join(found) or 'none'}.")
    if not image_key and not found:
        raise ValueError(f"{flag}: {own.name} has no image feature (its features: {', '.join(features)}); jare_tf "
                         f"trains on images: pick an image dataset, or pass a folder of images as "
                         f"folder:<path>.")
    if not image_key and len(found) > 1 and "image" not in found:
        raise ValueError(f"{flag}: {own.name} has several image features ({', '.join(found)}); say which with "
                         f"--config.image_key=<one of them>.")
    key = image_key or ("image" if "image" in found else found[0])
    count = features[key].shape[-1]
    if count not in (1, 3):
        raise ValueError(f"{flag}: its image feature {key!r} has {count} channels; jare_tf trains on 1 (greyscale) "
                         f"or 3 (RGB): pick another --config.image_key or convert the images into a folder.")
    label = features["label"] if "label" in features else None
    classes = label.num_classes if isinstance(label, tfds.features.ClassLabel) else 0
    how = (DATASETS[own.name].how_to_prepare if own.name in DATASETS
           else f"tfds build {own.name} --data_dir={{data_dir}}")
    made = ImageDataset(own.name, own.split, how, 0, count, "tfds", dataset, key, num_classes=classes,
                        identity=(("version", str(builder.info.version)), ("image_key", key)))
    splits = builder.info.splits
    if not splits:     # not prepared (named with the command that prepares it), or tfds.testing.mock_data's few
        _, ds = _open(made, data_dir)
        return dataclasses.replace(made, num_examples=int(ds.reduce(0, lambda n, _: n + 1)))
    try:
        return dataclasses.replace(made, num_examples=splits[own.split].num_examples)
    except (KeyError, ValueError):
        raise ValueError(f"{flag}: {own.name} has no split {own.split!r}; its splits: {', '.join(splits)} (write "
                         f"tfds:{own.name}:<split>, slices such as train[:10%] included).") from None


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


def fit_to_size(image: tf.Tensor, size: int) -> tf.Tensor:
    """Your own data at the setting's resolution (`size`): an image whose shorter side exceeds `size` is centre-
    cropped to its largest square and resized to size×size (`_centre_crop_resize`, CelebA's and ImageNet's rule:
    bilinear with antialiasing, rounded to uint8); a smaller one is never enlarged: each side longer than `size`
    is centre-cropped to it and the image is zero-padded (the background) to size×size, the extra pixel of an
    odd difference going to the bottom or right (Fashion-MNIST's 28 → 32 rule, `_pad_fashion_mnist`)."""
    h, w = tf.shape(image)[0], tf.shape(image)[1]

    def pad():
        ch, cw = tf.minimum(h, size), tf.minimum(w, size)
        top, left = (h - ch) // 2, (w - cw) // 2
        crop = image[top:top + ch, left:left + cw]
        pt, pl = (size - ch) // 2, (size - cw) // 2
        return tf.pad(crop, [[pt, size - ch - pt], [pl, size - cw - pl], [0, 0]])

    out = tf.cond(tf.minimum(h, w) > size, lambda: _centre_crop_resize(image, size), pad)
    out.set_shape([size, size, image.shape[-1]])
    return out


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


def _open(name: Data, data_dir: Optional[str], split: Optional[str] = None, **as_dataset_kwargs):
    """(spec, tf.data.Dataset of a split, the training split by default) with a clear error when the dataset is
    not prepared."""
    import tensorflow_datasets as tfds
    dataset = _dataset(name)
    name = dataset.name
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


def in_memory_bytes(name: Data, image_size: int) -> int:
    dataset = _dataset(name)
    return dataset.num_examples * image_size * image_size * dataset.channels


def fits_in_memory(name: Data, image_size: int) -> bool:
    return in_memory_bytes(name, image_size) <= MAX_IN_MEMORY_BYTES


def _decode_file(path: tf.Tensor, channels: int, image_size: int) -> tf.Tensor:
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels, dtype=tf.uint8, expand_animations=False)
    return fit_to_size(image, image_size)


def _decoded_folder(dataset: ImageDataset, image_size: int, keep: bool) -> Optional[np.ndarray]:
    """Every image of a folder decoded and converted, in the file list's order (keep=False: only checked, for a
    streamed folder); a file that does not decode is named."""
    paths = dataset.paths()
    ds = tf.data.Dataset.from_tensor_slices(paths).map(lambda p: _decode_file(p, dataset.channels, image_size),
                                                       num_parallel_calls=tf.data.AUTOTUNE)
    try:
        if keep:
            return np.concatenate(list(ds.batch(1024).as_numpy_iterator()), axis=0)
        ds.reduce(0, lambda n, _: n + 1)
        return None
    except tf.errors.OpError:
        for path in paths:                          # which one: decoded one by one
            try:
                _decode_file(tf.constant(path), dataset.channels, image_size)
            except tf.errors.OpError as e:
                raise ValueError(f"{path} cannot be decoded ({e.message.splitlines()[0][:160]}); delete or replace "
                                 f"it (every .png, .jpg and .jpeg file under {dataset.name} is used).") from None
        raise


def check_folder(dataset: ImageDataset, image_size: int) -> None:
    """Decode every image of a folder once (a streamed folder, before training); ValueError names a bad file."""
    _decoded_folder(dataset, image_size, keep=False)


def load_split(name: Data, image_size: int, data_dir: Optional[str], split: Optional[str] = None,
               with_labels: bool = False):
    """A whole split (the training split by default) as uint8 [N, size, size, C], and with `with_labels` also
    its int64 labels [N]; a clear error when it is not prepared, and a refusal (before loading) when it would not
    fit in memory — `stream` serves those datasets. `name` is a built-in dataset or a resolved one of your own
    (`from_config`); a folder has one split, its files, and no labels."""
    dataset = _dataset(name)
    needed = in_memory_bytes(dataset, image_size)
    if needed > MAX_IN_MEMORY_BYTES:
        raise ValueError(
            f"{dataset.dataset or dataset.name} at {image_size}×{image_size} needs {needed / 2 ** 30:.0f} GiB in "
            f"memory, more than {MAX_IN_MEMORY_BYTES / 2 ** 30:.0f} GiB; use the streaming pipeline "
            f"(images.stream), which the trainer picks for it automatically.")
    if dataset.kind == "folder":
        if with_labels:
            raise ValueError(f"{dataset.dataset} is a folder of images without labels; a classifier is trained "
                             f"on a labelled TFDS dataset (--classifier=train:tfds:<name>).")
        return _decoded_folder(dataset, image_size, keep=True)
    dataset, ds = _open(dataset, data_dir, split)
    convert = PREPROCESS[dataset.name] if dataset.kind == "builtin" else fit_to_size
    key = dataset.image_key
    examples = ds.map(lambda ex: (convert(ex[key], image_size), ex.get("label", -1)),
                      num_parallel_calls=tf.data.AUTOTUNE)
    parts = list(examples.batch(1024).as_numpy_iterator())
    array = np.concatenate([p[0] for p in parts], axis=0)
    expected = (image_size, image_size, dataset.channels)
    if array.shape[1:] != expected:
        raise ValueError(f"{dataset.name} images are {array.shape[1:]}, expected {expected}.")
    if with_labels:
        return array, np.concatenate([p[1] for p in parts], axis=0)
    return array


#: Shuffle buffer of the streaming pipeline (the reference's queue keeps 10,000 examples, reference_spec A.2).
STREAM_SHUFFLE_BUFFER = 10000


def stream(name: Data, image_size: int, data_dir: Optional[str], seed: int, batch_size: int,
           start_minibatch: int = 0) -> tf.data.Dataset:
    """uint8 minibatches [B, size, size, C] of an endless, seeded shuffle of the split, starting at minibatch
    `start_minibatch`, for datasets too large for memory (ImageNet). The order is a deterministic function of
    the seed; resuming replays it up to the start on the still-encoded records (skip before decoding), which
    takes minutes after hundreds of thousands of steps but continues exactly where the run stopped. A folder
    streams the same way, its shuffle running over the file paths (nothing is read before the start)."""
    import tensorflow_datasets as tfds
    dataset = _dataset(name)
    if dataset.kind == "folder":
        ds = tf.data.Dataset.from_tensor_slices(dataset.paths())
        convert = lambda path: _decode_file(path, dataset.channels, image_size)  # noqa: E731
    else:
        key = dataset.image_key
        _, ds = _open(dataset, data_dir, decoders={key: tfds.decode.SkipDecoding()})
        decoder = tfds.builder(dataset.name, data_dir=data_dir).info.features[key]
        preprocess = PREPROCESS[dataset.name] if dataset.kind == "builtin" else fit_to_size
        ds = ds.map(lambda ex: ex[key])
        convert = lambda encoded: preprocess(decoder.decode_example(encoded), image_size)  # noqa: E731
    ds = ds.repeat().shuffle(STREAM_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    ds = ds.skip(int(start_minibatch) * batch_size)
    ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
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
