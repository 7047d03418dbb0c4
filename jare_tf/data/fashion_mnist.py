"""Fashion-MNIST (Xiao et al. 2017) prepared as TFDS' `fashion_mnist` dataset from local idx files, offline.

Debian's `dataset-fashion-mnist` package installs the four original idx files, gzip-compressed, under
/usr/share/datasets/fashion-mnist/. TFDS finds files like these in `DownloadConfig(manual_dir=...)` but refuses
them: it verifies the checksum of the *.gz* files it registers, and Debian's gzip wrappers differ byte for byte
(the decompressed idx content is the original). So this module verifies what matters, the decompressed content
(idx magic number, item count and image dimensions in the header, the exact size, and the sha256 of the whole
file, recorded below from the original release), and then lets TFDS' own `fashion_mnist` builder write its
dataset from the verified files, so that the prepared dataset is the one an online `tfds build fashion_mnist`
makes (same version, features, splits and example order).

    jare-prepare fashion_mnist [--data_dir=~/tensorflow_datasets] [--source=/usr/share/datasets/fashion-mnist]
"""

import dataclasses
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
from typing import Dict, Optional

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
INSTALL = "apt-get install dataset-fashion-mnist"


@dataclasses.dataclass(frozen=True)
class IdxFile:
    name: str              # file name without .gz (as in the original release and in TFDS' URLs)
    magic: int             # 2051: uint8 images (3 dims), 2049: uint8 labels (1 dim)
    count: int
    sha256: str            # of the decompressed file

    @property
    def dims(self):
        return (self.count, 28, 28) if self.magic == 2051 else (self.count,)

    @property
    def size(self) -> int:
        header = 4 + 4 * len(self.dims)
        items = self.count * (28 * 28 if self.magic == 2051 else 1)
        return header + items


#: The four files of the original release, keyed as TFDS' MNIST builders key them.
FILES = {
    "train_data": IdxFile("train-images-idx3-ubyte", 2051, 60000,
                          "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": IdxFile("train-labels-idx1-ubyte", 2049, 60000,
                            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_data": IdxFile("t10k-images-idx3-ubyte", 2051, 10000,
                         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": IdxFile("t10k-labels-idx1-ubyte", 2049, 10000,
                           "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}


class IdxFileError(ValueError):
    """A missing, truncated or altered idx file; the message names the file and the fix."""


def _fix(source_dir: str) -> str:
    if os.path.abspath(source_dir) == DEBIAN_DIR:
        return f"reinstall it with `{INSTALL.replace('install', 'install --reinstall')}`"
    return (f"replace it with the original file (`{INSTALL}` puts all four under {DEBIAN_DIR}; pass "
            f"--source={DEBIAN_DIR})")


def _source_path(source_dir: str, spec: IdxFile) -> Optional[str]:
    for name in (spec.name + ".gz", spec.name):
        path = os.path.join(source_dir, name)
        if os.path.exists(path):
            return path
    return None


def verify_file(source_dir: str, spec: IdxFile, out_dir: str) -> str:
    """Decompress (if .gz) `spec`'s file from `source_dir` into `out_dir` and check its header, size and sha256;
    returns the path of the verified, decompressed file."""
    path = _source_path(source_dir, spec)
    if path is None:
        raise IdxFileError(f"{os.path.join(source_dir, spec.name)}.gz is missing: the Fashion-MNIST idx files are "
                           f"not in {source_dir}. Install them with `{INSTALL}` (files under {DEBIAN_DIR}), or "
                           f"pass --source=<folder with the four original files>.")
    out = os.path.join(out_dir, spec.name)
    digest = hashlib.sha256()
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as src, open(out, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                dst.write(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise IdxFileError(f"{path} cannot be decompressed ({type(e).__name__}: {e}); it is truncated or not a "
                           f"gzip file: {_fix(source_dir)}.") from None
    size = os.path.getsize(out)
    with open(out, "rb") as f:
        header = f.read(4 + 4 * len(spec.dims))
    if len(header) >= 4:
        magic = struct.unpack(">I", header[:4])[0]
        if magic != spec.magic:
            raise IdxFileError(f"{path}: idx magic number {magic}, expected {spec.magic} (uint8, "
                               f"{len(spec.dims)} dims): not the {spec.name} file; {_fix(source_dir)}.")
    if len(header) == 4 + 4 * len(spec.dims):
        dims = struct.unpack(">" + "I" * len(spec.dims), header[4:])
        if dims != spec.dims:
            raise IdxFileError(f"{path}: its header says {dims[0]} items of {dims[1:] or 'one byte'}, expected "
                               f"{spec.dims[0]} of {spec.dims[1:] or 'one byte'}; {_fix(source_dir)}.")
    if size != spec.size:
        raise IdxFileError(f"{path}: {size} bytes decompressed, expected {spec.size} ({spec.count} items): the file "
                           f"is truncated or padded; {_fix(source_dir)}.")
    if digest.hexdigest() != spec.sha256:
        raise IdxFileError(f"{path}: the decompressed content has sha256 {digest.hexdigest()}, expected "
                           f"{spec.sha256} (the original release): the file is altered; {_fix(source_dir)}.")
    return out


class _VerifiedFiles:
    """Stands in for TFDS' DownloadManager in the `fashion_mnist` builder: `download_and_extract` of the
    builder's URLs returns the verified decompressed files (nothing is downloaded)."""

    downloaded_size = 0

    def __init__(self, paths: Dict[str, str]):
        self.paths = paths

    def download_and_extract(self, urls):
        by_name = {FILES[key].name: path for key, path in self.paths.items()}
        resolved = {}
        for key, url in urls.items():
            name = os.path.basename(url)
            name = name[:-3] if name.endswith(".gz") else name
            if name not in by_name:
                raise RuntimeError(f"TFDS' fashion_mnist builder asks for {url}, which is not one of the "
                                   f"verified files {sorted(by_name)} (a newer TFDS?).")
            resolved[key] = by_name[name]
        return resolved


def is_prepared(data_dir: Optional[str]) -> bool:
    import tensorflow_datasets as tfds
    return tfds.builder("fashion_mnist", data_dir=data_dir).is_prepared()


def prepare(data_dir: Optional[str] = None, source_dir: str = DEBIAN_DIR, log=print) -> str:
    """Prepare TFDS' `fashion_mnist` under `data_dir` (TFDS' default when None) from the idx files in
    `source_dir`; returns the dataset's folder. Already prepared: nothing is done."""
    import tensorflow_datasets as tfds
    builder = tfds.builder("fashion_mnist", data_dir=data_dir)
    if is_prepared(data_dir):
        log(f"fashion_mnist is already prepared in {builder.data_dir}.")
        return str(builder.data_dir)
    scratch = tempfile.mkdtemp(prefix="fashion_mnist_idx_")
    try:
        paths = {key: verify_file(source_dir, spec, scratch) for key, spec in FILES.items()}
        log(f"Verified the four idx files in {source_dir} (header, size, sha256 of the decompressed content).")
        builder._make_download_manager = lambda **kwargs: _VerifiedFiles(paths)   # noqa: SLF001 (see module doc)
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log(f"Prepared fashion_mnist ({', '.join(f'{k}: {v.num_examples}' for k, v in builder.info.splits.items())}) "
        f"in {builder.data_dir}.")
    return str(builder.data_dir)
