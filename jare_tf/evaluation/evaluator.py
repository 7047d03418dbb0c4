"""Evaluate the checkpoints of a training workdir: IS, FID and KID, improved precision and recall, density and
coverage (`manifold_metrics`, on as many fakes as the stored real features: min(n_fake, 10,000)), and for a
classifier of at most MAX_HISTOGRAM_CLASSES classes the histogram of the classes it assigns to the samples, with
provenance, written to eval.json, TensorBoard (`workdir/eval`) and a PNG sample sheet per checkpoint.

Protocols (FID numbers are only comparable within one: the network, the sample counts, the reference split and
the resize filter all move CIFAR-10 FID by several points):
* "default": 50,000 samples; IS in 10 splits; FID and KID against the whole training split; tf2_bilinear resize.
* "jare_paper" (reference_spec D): IS on 50,000 samples truncated to uint8, 10 splits; FID on 12,800 float
  samples against 12,800 training images; tf1_legacy resize. (The reference takes IS from the Inception logits
  without the softmax bias; whether the TF-Hub module's logits include it is unverified, so this protocol uses
  the module's logits as they are.)
Samples are generated in batches of 64 from a seeded latent stream, with the generator's batch statistics where
it has BN (setting A), as the reference does.
"""

import dataclasses
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from jare_tf.data import images
from jare_tf.evaluation import image_metrics, manifold_metrics, run_config
from jare_tf.evaluation.classifier import Classifier
from jare_tf.models import architectures
from jare_tf.training.image_trainer import sample_grid
from jare_tf.training.workdir import read_json, write_json

SAMPLE_BATCH = 64
#: A class histogram is recorded for classifiers with at most this many classes (the domain classifiers; not
#: Inception's 1,008).
MAX_HISTOGRAM_CLASSES = 100


@dataclasses.dataclass(frozen=True)
class Protocol:
    name: str
    n_fake: int
    n_real: Optional[int]          # None: the whole split
    fid_fake: Optional[int]        # None: all n_fake samples
    splits: int
    resize: str
    is_uint8: bool


PROTOCOLS = {
    "default": Protocol("default", 50000, None, None, 10, "tf2_bilinear", False),
    "jare_paper": Protocol("jare_paper", 50000, 12800, 12800, 10, "tf1_legacy", True),
}


def checkpoint_step(path: str) -> int:
    match = re.search(r"ckpt-(\d+)$", path)
    if not match:
        raise ValueError(f"Not a training checkpoint path: {path}")
    return int(match.group(1))


class Evaluator:
    def __init__(self, workdir: str, classifier: Classifier, protocol: Protocol, seed: int = 0,
                 data_dir: Optional[str] = None, stats_dir: Optional[str] = None):
        self.config = run_config.image_run_config(workdir)
        self.workdir, self.classifier, self.protocol, self.seed = workdir, classifier, protocol, seed
        self.data_dir = data_dir if data_dir is not None else (self.config.get("data_dir") or None)
        self.stats_dir = stats_dir
        # The run's data as it trained on it (your own data resolved again: its file list, its TFDS split).
        self.data = images.from_config(dict(self.config, dataset=self.config.get("dataset", "cifar10"),
                                            data_dir=self.data_dir or ""))
        self.generator = architectures.build(self.config["architecture"], self.config["z_dim"],
                                             channels=self.data.channels)[0]
        self.checkpoint = tf.train.Checkpoint(generator=self.generator)
        self.eval_dir = os.path.join(workdir, "eval")
        self.writer = tf.summary.create_file_writer(self.eval_dir)

    # --- checkpoints ----------------------------------------------------------------------------------------------
    def checkpoints(self) -> List[Tuple[int, str]]:
        state = tf.train.get_checkpoint_state(os.path.join(self.workdir, "checkpoints"))
        paths = list(state.all_model_checkpoint_paths) if state else []
        return sorted((checkpoint_step(p), p) for p in paths)

    def records(self) -> List[Dict[str, object]]:
        path = os.path.join(self.workdir, "eval.json")
        if not tf.io.gfile.exists(path):
            return []
        return read_json(path)

    def current(self, record) -> bool:
        """Whether a record was made under this protocol with this network (another network is another score)."""
        return (record["protocol"] == self.protocol.name
                and record["provenance"]["network_sha256"] == self.classifier.sha256)

    def evaluated_steps(self) -> set:
        return {r["step"] for r in self.records() if self.current(r)}

    # --- data -----------------------------------------------------------------------------------------------------
    def fake_batches(self, n: int):
        z_dim = self.config["z_dim"]
        for start in range(0, n, SAMPLE_BATCH):
            z = tf.random.stateless_normal([SAMPLE_BATCH, z_dim], [self.seed, start])
            x = self.generator(z, training=True)[: n - start]
            if self.protocol.is_uint8:
                x = tf.cast(tf.cast(tf.clip_by_value((x + 1.0) * 127.5, 0.0, 255.0), tf.uint8), tf.float32)
                x = x / 127.5 - 1.0
            yield x

    def real_source(self) -> Tuple[str, int, callable]:
        """(dataset name, number of real images, batch generator)."""
        size = self.config["image_size"]
        if self.config.get("fake_data"):
            n = self.protocol.n_real or 2048
            channels = self.data.channels
            return "fake_images", n, lambda: (images.fake_images(i, min(SAMPLE_BATCH, n - i * SAMPLE_BATCH), size,
                                                                  self.config["seed"], channels)
                                              for i in range(-(-n // SAMPLE_BATCH)))
        name = self.config["dataset"]
        total = self.data.num_examples
        n = min(self.protocol.n_real or total, total)
        if not images.fits_in_memory(self.data, size):      # the first n of a seeded stream (your own data)
            return name, n, lambda: (images.to_unit_range(b[: n - i * SAMPLE_BATCH]) for i, b in enumerate(
                images.stream(self.data, size, self.data_dir, self.seed, SAMPLE_BATCH)
                .take(-(-n // SAMPLE_BATCH)).as_numpy_iterator()))

        def batches():   # the split is loaded only when its statistics are not cached yet
            split = images.load_split(self.data, size, self.data_dir)
            order = np.random.default_rng(self.seed).permutation(len(split))[:n]
            return (images.to_unit_range(split[order[i:i + SAMPLE_BATCH]]) for i in range(0, len(order),
                                                                                          SAMPLE_BATCH))
        return name, n, batches

    # --- one checkpoint ---------------------------------------------------------------------------------------------
    def evaluate(self, step: int, path: str) -> Dict[str, object]:
        self.checkpoint.restore(path).expect_partial()
        p = self.protocol
        fake = image_metrics.activations(self.classifier, self.fake_batches(p.n_fake))
        dataset, n_real, real_batches = self.real_source()
        resize = self.classifier.resize or "none"
        own = self.data.kind != "builtin" and not self.config.get("fake_data")
        split = self.data.split if own else "train"
        key = image_metrics.statistics_key(dataset, self.config["image_size"], self.classifier, n_real, self.seed,
                                           split, dict(self.data.identity) if own else None)
        real = image_metrics.real_statistics(
            key, lambda: image_metrics.activations(self.classifier, real_batches())["pool"], self.stats_dir)
        fid_pool = fake["pool"][: p.fid_fake or p.n_fake]
        fake_stats = image_metrics.statistics(fid_pool)
        n_manifold = min(len(real["kid_pool"]), len(fid_pool))
        record = {"step": step, "checkpoint": path, "protocol": p.name,
                  **image_metrics.inception_score(fake["logits"], p.splits),
                  "fid": image_metrics.fid_from_statistics(real["mu"], real["sigma"], fake_stats["mu"],
                                                           fake_stats["sigma"]),
                  **image_metrics.kid(real["kid_pool"], fid_pool[: image_metrics.KID_REAL_ACTIVATIONS]),
                  **manifold_metrics.manifold_metrics(real["kid_pool"][:n_manifold], fid_pool[:n_manifold]),
                  **(manifold_metrics.class_histogram(fake["logits"])
                     if fake["logits"].shape[1] <= MAX_HISTOGRAM_CLASSES else {}),
                  "provenance": {"classifier": self.classifier.name, "network_sha256": self.classifier.sha256,
                                 **self.classifier.provenance, "resize": resize, "n_real": n_real, "n_fake_is": p.n_fake,
                                 "n_fake_fid": len(fid_pool), "is_splits": p.splits, "is_uint8": p.is_uint8,
                                 "reference_split": f"{dataset}/{split}", "seed": self.seed,
                                 "precision_recall_k": manifold_metrics.PR_K,
                                 "density_coverage_k": manifold_metrics.DC_K, "manifold_n_real": n_manifold,
                                 "manifold_n_fake": n_manifold}}
        # The sample sheet and the summaries come first and the eval.json record last: a checkpoint counts as
        # evaluated only once its record is written, so a kill at any point here leaves it to be redone whole.
        grid = sample_grid(tf.concat(list(self.fake_batches(SAMPLE_BATCH)), axis=0))
        os.makedirs(self.eval_dir, exist_ok=True)
        sheet = os.path.join(self.eval_dir, f"samples_{step:07d}.png")
        tf.io.write_file(sheet + ".tmp", tf.io.encode_png(tf.cast(tf.round(grid[0] * 255.0), tf.uint8)))
        tf.io.gfile.rename(sheet + ".tmp", sheet, overwrite=True)
        with self.writer.as_default(step=step):
            for name in ("is_mean", "fid", "kid_mean", "precision", "recall", "density", "coverage"):
                tf.summary.scalar(f"{p.name}/{name}", record[name])
            tf.summary.image("samples", grid)
        self.writer.flush()
        write_json(os.path.join(self.workdir, "eval.json"), self.records() + [record])
        return record
