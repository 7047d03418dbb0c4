"""Your own data as --config.dataset: the names, the folder listing and the image headers, without TensorFlow.

    --config.dataset=tfds:<name>[/<config>][:<split>]   any TFDS image dataset (split: train by default)
    --config.dataset=folder:<path>                      PNG/JPEG files under <path>, recursively (local or gs://)

`parse` splits such a name; `problem` finds what is wrong with it before TensorFlow loads (a malformed name, a
local folder that is missing, is a file or holds no image), so jare-train refuses it in a tenth of a second.
`list_images` gives a folder's images as a sorted list of paths relative to it (the order the minibatches index,
so a run is a function of (seed, step) on any machine), and `header` reads a PNG's IHDR chunk or a JPEG's
start-of-frame marker for the size and channel count of each file, so that a folder whose images cannot share
one channel count is refused before anything is decoded. The channel rule: an alpha channel is dropped (grey +
alpha → 1, RGBA → 3), a palette PNG is RGB (3); a folder must then hold one count, 1 or 3 (greyscale and colour
images mixed are refused: which way to convert is the user's choice, not this package's). The pixels are decoded
and converted to the setting's resolution in `jare_tf.data.images` (`fit_to_size`).
"""

import dataclasses
import os
import struct
from typing import BinaryIO, Callable, List, Optional, Tuple

TFDS_PREFIX = "tfds:"
FOLDER_PREFIX = "folder:"
EXTENSIONS = (".png", ".jpg", ".jpeg")
#: PNG colour types (IHDR) → the channel count they decode to with alpha dropped: grey, RGB, palette (RGB),
#: grey + alpha, RGBA.
PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 1, 6: 3}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic coded).
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclasses.dataclass(frozen=True)
class OwnName:
    """A parsed --config.dataset of one's own data: kind "tfds" (name with its config, split) or "folder"
    (path)."""
    kind: str
    name: str = ""
    split: str = "train"
    path: str = ""


def is_own(dataset: str) -> bool:
    return isinstance(dataset, str) and dataset.startswith((TFDS_PREFIX, FOLDER_PREFIX))


def parse(dataset: str) -> OwnName:
    """`tfds:celeb_a:train` → OwnName("tfds", "celeb_a", "train"); `folder:/data/x` → OwnName("folder",
    path="/data/x"). ValueError with the flag and the form for a malformed one."""
    flag = f"--config.dataset={dataset}"
    if dataset.startswith(FOLDER_PREFIX):
        path = dataset[len(FOLDER_PREFIX):]
        if not path:
            raise ValueError(f"{flag} names no folder; write folder:<path> (a folder of PNG/JPEG images, local "
                             f"or gs://).")
        return OwnName("folder", path=path if "://" in path else os.path.abspath(os.path.expanduser(path)))
    body = dataset[len(TFDS_PREFIX):]
    name, _, split = body.partition(":")
    split = split or "train"
    valid = lambda text, extra: text and all(c.isalnum() or c in "_" + extra for c in text)  # noqa: E731
    if not valid(name, "/.") or name.count("/") > 1 or not valid(split, "[]%+-"):
        raise ValueError(f"{flag} is not of the form tfds:<name>[/<config>][:<split>] (e.g. tfds:mnist, "
                         f"tfds:cifar100:test, tfds:celeb_a:train).")
    return OwnName("tfds", name=name, split=split)


def _local_images(path: str) -> List[str]:
    found = []
    for folder, dirs, files in os.walk(path, followlinks=True):
        dirs.sort()
        found += [os.path.relpath(os.path.join(folder, f), path) for f in files if f.lower().endswith(EXTENSIONS)]
    return sorted(p.replace(os.sep, "/") for p in found)


def list_images(path: str) -> List[str]:
    """The PNG/JPEG files under `path` (recursively; by extension, case-insensitive) as sorted relative paths
    with "/" separators. gs:// and other URLs are listed with tf.io.gfile."""
    if "://" not in path:
        return _local_images(path)
    import tensorflow as tf
    found = []
    for folder, _, files in tf.io.gfile.walk(path):
        found += [os.path.join(folder, f)[len(path):].lstrip("/") for f in files if f.lower().endswith(EXTENSIONS)]
    return sorted(found)


def problem(dataset: str) -> str:
    """What keeps --config.dataset (tfds: or folder:) from being trained on, as far as it is known without
    TensorFlow ("" when nothing is): a malformed name; a local folder that is missing, is a file or holds no
    PNG/JPEG file. TFDS names, splits and image features are checked when the builder is opened."""
    try:
        own = parse(dataset)
    except ValueError as e:
        return str(e)
    if own.kind != "folder" or "://" in own.path:
        return ""
    flag = f"--config.dataset={dataset}"
    if not os.path.exists(own.path):
        return f"{flag}: {own.path} does not exist; pass the folder that holds the images."
    if not os.path.isdir(own.path):
        return (f"{flag}: {own.path} is a file, not a folder; pass the folder that holds it "
                f"(folder:{os.path.dirname(own.path)}), whose PNG/JPEG files are all used.")
    if not list_images(own.path):
        return (f"{flag}: {own.path} holds no image (no .png, .jpg or .jpeg file in it or below it); put the "
                f"images there, or pass the folder that holds them.")
    return ""


def _jpeg_header(f: BinaryIO) -> Tuple[int, int, int]:
    """(height, width, components) from a JPEG's start-of-frame segment."""
    while True:
        byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            raise ValueError("no start-of-frame marker")
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:       # SOI, TEM, RSTn: no length
            continue
        length = f.read(2)
        if len(length) < 2:
            raise ValueError("truncated marker segment")
        size = struct.unpack(">H", length)[0]
        if marker in JPEG_SOF:
            frame = f.read(6)
            if len(frame) < 6:
                raise ValueError("truncated start-of-frame segment")
            _, height, width, components = struct.unpack(">BHHB", frame)
            return height, width, components
        f.seek(size - 2, 1)
        if f.read(1) != b"\xff":
            raise ValueError("marker segment runs past the data")


def header(f: BinaryIO) -> Tuple[int, int, int]:
    """(height, width, channels with alpha dropped) of a PNG or JPEG file object; ValueError saying why not."""
    start = f.read(8)
    if start == PNG_SIGNATURE:
        chunk = f.read(8 + 13)
        if len(chunk) < 21 or chunk[4:8] != b"IHDR":
            raise ValueError("PNG without an IHDR chunk")
        width, height, depth, colour = struct.unpack(">IIBB", chunk[8:18])
        if colour not in PNG_CHANNELS:
            raise ValueError(f"PNG colour type {colour} is not defined")
        if depth == 16:
            raise ValueError("16-bit PNG (the images are read as 8-bit)")
        return height, width, PNG_CHANNELS[colour]
    if start[:2] == b"\xff\xd8":
        f.seek(2)
        height, width, components = _jpeg_header(f)
        if components not in (1, 3):
            raise ValueError(f"JPEG with {components} colour components (CMYK is not read)")
        return height, width, components
    raise ValueError("neither a PNG nor a JPEG file (its first bytes are not a PNG or JPEG signature)")


def channels(path: str, files: List[str], opener: Optional[Callable[[str], BinaryIO]] = None) -> int:
    """The one channel count (1 or 3) of a folder's images by the rule above; ValueError naming the first
    unreadable file, or a greyscale and a colour file when they are mixed, with the fix."""
    opener = opener or (lambda p: open(p, "rb"))
    first = {}
    for relative in files:
        full = os.path.join(path, relative)
        try:
            with opener(full) as f:
                c = header(f)[2]
        except (OSError, ValueError, struct.error) as e:
            raise ValueError(f"{full} cannot be read as an image ({e}); delete or replace it (every .png, .jpg "
                             f"and .jpeg file under {path} is used).") from None
        first.setdefault(c, full)
        if len(first) > 1:
            raise ValueError(f"folder:{path} mixes greyscale and colour images (e.g. {first[1]} has 1 channel, "
                             f"{first[3]} has 3); convert them to one kind (all RGB or all greyscale) first: "
                             f"which way to convert is not guessed.")
    return next(iter(first))
