r"""Train and score on a folder of your own images (docs/own_data.md): here a folder of Fashion-MNIST PNGs, so it
runs offline on any machine that has Debian's dataset-fashion-mnist (`jare-prepare fashion_mnist`).

    python examples/own_data.py --folder=/tmp/fmnist_pngs --workdir=/tmp/C_folder --num_images=2000 --steps=200

It does what these commands do, through the same code:

    jare-train --setting=C --method=jare --config.dataset=folder:/tmp/fmnist_pngs --num_steps=200 \
        --workdir=/tmp/C_folder
    jare-eval --workdir=/tmp/C_folder --classifier=fashion_mnist --num_fake=2000

1. `write_folder` writes the first N Fashion-MNIST training images as 28×28 greyscale PNGs (your own folder
   takes its place: any PNG/JPEG files, in sub-folders too).
2. `train` trains setting C on `folder:<path>`: the files are listed in sorted order and decoded once, each
   image is padded to the setting's 32×32 (larger ones are centre-cropped and resized), and the minibatch of
   step s is a function of (seed, s), so running it again resumes exactly where it stopped.
3. `score` evaluates the last checkpoint: FID, KID, IS, precision/recall and density/coverage against the real
   statistics of the same folder (cached under its file-list hash), with the Fashion-MNIST classifier (trained
   once and cached; a folder of other images would use --classifier=inception, or a classifier that
   --classifier=train:tfds:<labelled dataset> trained).
"""

import argparse
import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from jare_tf import settings  # noqa: E402
from jare_tf.data import images, own_data  # noqa: E402
from jare_tf.evaluation import classifier, domain_classifier  # noqa: E402
from jare_tf.evaluation.evaluator import PROTOCOLS, Evaluator  # noqa: E402
from jare_tf.training.image_trainer import ImageRun  # noqa: E402


def write_folder(folder: str, num_images: int, data_dir=None) -> str:
    """The first `num_images` Fashion-MNIST training images as PNGs <folder>/<class>/<index>.png."""
    array, labels = images.load_split("fashion_mnist", 32, data_dir, split=f"train[:{num_images}]", with_labels=True)
    for i in range(num_images):
        path = os.path.join(folder, str(labels[i]), f"{i:05d}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tf.io.write_file(path, tf.io.encode_png(array[i, 2:30, 2:30]))     # the 28×28 original
    return folder


def train(folder: str, workdir: str, steps: int, method: str = "jare", batch_size: int = 64,
          data_dir=None) -> dict:
    """jare-train --setting=C --method=<method> --config.dataset=folder:<folder> --num_steps=<steps>."""
    config = settings.load("C")
    config.dataset, config.num_steps, config.batch_size = "folder:" + os.path.abspath(folder), steps, batch_size
    config.data_dir = data_dir or ""
    config.checkpoint_every = max(1, steps // 2)
    return ImageRun(config, method).train(workdir, verbose=0)


def score(workdir: str, which: str = "fashion_mnist", num_fake: int = 2000, data_dir=None) -> dict:
    """jare-eval --workdir=<workdir> --classifier=<which> --num_fake=<num_fake> (which: fashion_mnist or
    stand_in, the small random network for smoke runs), on the latest checkpoint."""
    network = domain_classifier.load(data_dir) if which == "fashion_mnist" else classifier.stand_in()
    protocol = dataclasses.replace(PROTOCOLS["default"], name="example", n_fake=num_fake,
                                   splits=10 if num_fake >= 1000 else 2)
    evaluator = Evaluator(workdir, network, protocol, data_dir=data_dir)
    step, path = evaluator.checkpoints()[-1]
    return evaluator.evaluate(step, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", required=True, help="Where the PNGs are written (and then read from).")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--num_images", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--method", default="jare")
    parser.add_argument("--classifier", default="fashion_mnist", choices=["fashion_mnist", "stand_in"])
    parser.add_argument("--num_fake", type=int, default=2000)
    args = parser.parse_args()
    if not (os.path.isdir(args.folder) and own_data.list_images(args.folder)):
        write_folder(args.folder, args.num_images)
    result = train(args.folder, args.workdir, args.steps, args.method)
    print(f"trained to step {result['step']} on folder:{os.path.abspath(args.folder)}")
    r = score(args.workdir, args.classifier, args.num_fake)
    print(f"step {r['step']}: FID {r['fid']:.2f}, KID {r['kid_mean']:.4f}, IS {r['is_mean']:.2f}, precision "
          f"{r['precision']:.3f}, recall {r['recall']:.3f} ({r['provenance']['classifier']}, "
          f"{r['provenance']['n_real']} real images)")


if __name__ == "__main__":
    main()
