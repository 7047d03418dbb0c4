r"""jare-eval: IS, FID and KID of a training run's checkpoints (TF-GAN's eval code, see jare_tf.evaluation).

    jare-eval --workdir=runs/C_jare                          # the latest checkpoint
    jare-eval --workdir=runs/C_jare --checkpoints=all        # every checkpoint not yet evaluated
    jare-eval --workdir=gs://bucket/runs/A_jare --follow     # side-car job: each new checkpoint as it appears
    jare-eval --workdir=runs/C_jare --protocol=jare_paper    # the reference code's protocol
    jare-eval --self_check                                   # IS/FID of real CIFAR-10 vs published values
    jare-eval --workdir=runs/C_jare_fmnist --classifier=fashion_mnist   # Fashion-MNIST runs: the domain CNN
    jare-eval --workdir=runs/C_mnist --classifier=train:tfds:mnist      # the same CNN, trained on any labelled set
    jare-eval --workdir=runs/C_folder --classifier=/path/to/classifier  # a classifier folder train:<dataset> made

Results are appended to <workdir>/eval.json (one record per checkpoint and protocol, with the network's sha256,
resize mode, sample counts, reference split, seed and protocol), written to TensorBoard (<workdir>/eval, beside
<workdir>/train) and as a PNG sample sheet per checkpoint in <workdir>/eval.

--classifier=fashion_mnist scores Fashion-MNIST runs with a small CNN trained on Fashion-MNIST by the package
(trained once, about four minutes on two CPU cores, then cached; its sha256 and test accuracy go into every
record): FID and KID from its 128-d penultimate features, IS from its logits. --classifier=train:<dataset>
trains (once, then cached) the same CNN on any labelled dataset, a built-in name or tfds:<name>, at the run's
resolution and channel count; --classifier=<folder> loads such a cached classifier (its info.json and weights),
e.g. to score a run on an unlabelled folder of images. The real statistics come from the run's own data (its
--config.dataset, your own included: docs/own_data.md), cached under its identity.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags, logging  # noqa: E402

from jare_tf import cli, config_checks  # noqa: E402
from jare_tf.evaluation import run_config  # noqa: E402

flags.DEFINE_string("workdir", None, "A jare-train image workdir.")
flags.DEFINE_enum("checkpoints", "latest", ["latest", "all"], "Which checkpoints to evaluate.")
flags.DEFINE_bool("follow", False, "Keep watching the workdir and evaluate each new checkpoint.")
flags.DEFINE_float("poll_seconds", 30.0, "--follow: seconds between looks at the workdir.")
flags.DEFINE_float("follow_timeout", 0.0, "--follow: stop after this many seconds without the final checkpoint "
                   "(0: until the run's last step is evaluated).")
flags.DEFINE_enum("protocol", "default", ["default", "jare_paper"], "Evaluation protocol.")
flags.DEFINE_integer("num_fake", None, "Override the protocol's number of generated samples.")
flags.DEFINE_integer("num_real", None, "Override the protocol's number of real images (default: whole split).")
flags.DEFINE_enum("resize", None, ["tf2_bilinear", "tf1_legacy"], "Override the protocol's resize mode.")
flags.DEFINE_string("classifier", "inception", "inception: TF-GAN's network; fashion_mnist: the package's "
                    "Fashion-MNIST CNN (for runs on --config.dataset=fashion_mnist); train:<dataset>: that CNN "
                    "trained on a labelled dataset (a built-in name or tfds:<name>) at the run's resolution, "
                    "cached; <folder>: a classifier folder that train:<dataset> cached; stand_in: a small random "
                    "net for offline smoke tests only.")
flags.DEFINE_string("inception_path", None, "A local copy of TF-GAN's Inception TF-Hub module.")
flags.DEFINE_string("stats_dir", None, "Cache of real-data statistics (default $JARE_TF_CACHE/fid_stats or "
                    "~/.cache/jare_tf/fid_stats).")
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default: the run's).")
flags.DEFINE_integer("seed", 0, "Seed of the evaluation latents and of the real-image subset.")
flags.DEFINE_bool("self_check", False, "Check IS and FID of real CIFAR-10 images against published values.")
FLAGS = flags.FLAGS

#: Real CIFAR-10 with TF-GAN's Inception: IS of the training images (Salimans et al. 2016: 11.24 ± 0.12) and
#: FID of the training split against the test split (≈ 3.2 in the FID literature). Generous tolerances: the
#: check is for gross errors (input range, resize, logits), not decimals.
SELF_CHECK = {"is": (11.24, 0.6), "fid_train_vs_test": (3.2, 2.0)}


#: The --classifier names; besides them: train:<dataset> and a classifier folder (classifier_problem).
CLASSIFIERS = ("inception", "fashion_mnist", "stand_in")


def classifier_problem(value: str) -> str:
    """What is wrong with --classifier=value, found without TensorFlow ("" when nothing is)."""
    from jare_tf.data import own_data
    if value in CLASSIFIERS:
        return ""
    if value.startswith("train:"):
        dataset = value[len("train:"):]
        if own_data.is_own(dataset):
            problem = own_data.problem(dataset)
            return problem.replace("--config.dataset=", "--classifier=train:") if problem else ""
        if dataset in config_checks.DATASETS:
            return ""
        hint = config_checks.did_you_mean(dataset, config_checks.DATASETS)
        return (f"--classifier={value}: unknown dataset {dataset!r}{hint}; train:<dataset> takes a built-in one "
                f"({', '.join(config_checks.DATASETS)}) or tfds:<name> with a label feature.")
    if os.path.isdir(value):
        if os.path.isfile(os.path.join(value, "info.json")):
            return ""
        return (f"--classifier={value} is a folder without info.json: not a classifier folder (jare-eval "
                f"--classifier=train:<dataset> caches one under $JARE_TF_CACHE/classifiers/).")
    return (f"--classifier={value}: not one of {', '.join(CLASSIFIERS)}, train:<dataset> (e.g. train:tfds:mnist) "
            f"or an existing classifier folder{config_checks.did_you_mean(value, CLASSIFIERS)}.")


def _classifier(resize):
    from jare_tf.evaluation import classifier
    if FLAGS.classifier == "stand_in":
        return classifier.stand_in(resize)
    if FLAGS.classifier == "fashion_mnist":
        from jare_tf.evaluation import domain_classifier
        return domain_classifier.load(FLAGS.data_dir)
    if FLAGS.classifier.startswith("train:"):
        from jare_tf.evaluation import domain_classifier
        return domain_classifier.load(FLAGS.data_dir, dataset=FLAGS.classifier[len("train:"):],
                                      image_size=run_config.image_run_config(FLAGS.workdir)["image_size"])
    if FLAGS.classifier != "inception":
        from jare_tf.evaluation import domain_classifier
        return domain_classifier.load_path(FLAGS.classifier)
    return classifier.inception(FLAGS.inception_path, resize)


def self_check() -> int:
    import numpy as np
    from jare_tf.data import images
    from jare_tf.evaluation import image_metrics
    net = _classifier("tf2_bilinear")
    train = images.load_split("cifar10", 32, FLAGS.data_dir)
    import tensorflow_datasets as tfds
    test = np.concatenate(list(tfds.load("cifar10", split="test", data_dir=FLAGS.data_dir).map(
        lambda ex: ex["image"]).batch(1000).as_numpy_iterator()))
    batches = lambda a: (images.to_unit_range(a[i:i + 500]) for i in range(0, len(a), 500))  # noqa: E731
    tr, te = image_metrics.activations(net, batches(train)), image_metrics.activations(net, batches(test))
    score = image_metrics.inception_score(tr["logits"], 10)["is_mean"]
    s1, s2 = image_metrics.statistics(tr["pool"]), image_metrics.statistics(te["pool"])
    fid = image_metrics.fid_from_statistics(s1["mu"], s1["sigma"], s2["mu"], s2["sigma"])
    ok = abs(score - SELF_CHECK["is"][0]) <= SELF_CHECK["is"][1] and abs(
        fid - SELF_CHECK["fid_train_vs_test"][0]) <= SELF_CHECK["fid_train_vs_test"][1]
    print(f"IS(train) = {score:.2f} (published {SELF_CHECK['is'][0]}); FID(train, test) = {fid:.2f} (published "
          f"≈ {SELF_CHECK['fid_train_vs_test'][0]}): {'OK' if ok else 'MISMATCH: check input range, resize, logits'}")
    return 0 if ok else 1


def main(argv):
    if len(argv) > 1:
        print(f"jare-eval: error: unexpected arguments {argv[1:]} (every input is a --flag).", file=sys.stderr)
        return 2
    logging.set_verbosity(logging.WARNING)
    if not FLAGS.self_check:
        if not FLAGS.workdir:
            print("jare-eval: error: --workdir is required (or --self_check).", file=sys.stderr)
            return 2
        try:      # a wrong --workdir or number is named before TensorFlow or any network is loaded
            config_checks.check_flags({n: FLAGS[n].value for n in ("num_fake", "num_real", "poll_seconds",
                                                                   "follow_timeout")},
                                      positive=("num_fake", "num_real", "poll_seconds"),
                                      non_negative=("follow_timeout",))
            run_config.image_run_config(FLAGS.workdir)
            problem = classifier_problem(FLAGS.classifier)
            if problem:
                raise ValueError(problem)
            if FLAGS.stats_dir and os.path.isfile(FLAGS.stats_dir):
                raise ValueError(f"--stats_dir={FLAGS.stats_dir} is a file; pass a folder (it is created when "
                                 f"missing).")
        except ValueError as e:
            print(f"jare-eval: error: {e}", file=sys.stderr)
            return 2
    from jare_tf.evaluation.classifier import ClassifierUnavailable
    from jare_tf.evaluation.evaluator import PROTOCOLS, Evaluator
    from jare_tf.training.workdir_lock import EVAL, WorkdirBusy, WorkdirLock
    import dataclasses
    try:
        if FLAGS.self_check:
            return self_check()
        protocol = PROTOCOLS[FLAGS.protocol]
        overrides = {k: v for k, v in (("n_fake", FLAGS.num_fake), ("n_real", FLAGS.num_real),
                                       ("resize", FLAGS.resize)) if v is not None}
        if FLAGS.num_fake is not None and protocol.fid_fake is not None:
            overrides["fid_fake"] = min(protocol.fid_fake, FLAGS.num_fake)
        protocol = dataclasses.replace(protocol, **overrides)
        # One evaluator writes eval.json at a time (training beside it is fine: it holds the other lock).
        with WorkdirLock(FLAGS.workdir, name=EVAL):
            evaluator = Evaluator(FLAGS.workdir, _classifier(protocol.resize), protocol, FLAGS.seed,
                                  FLAGS.data_dir, FLAGS.stats_dir)
            start = time.monotonic()
            while True:
                done = evaluator.evaluated_steps()
                found = evaluator.checkpoints()
                todo = found[-1:] if FLAGS.checkpoints == "latest" and not FLAGS.follow else found
                for step, path in todo:
                    if step not in done:
                        r = evaluator.evaluate(step, path)
                        print(f"step {step}: IS {r['is_mean']:.3f} ± {r['is_std']:.3f}, FID {r['fid']:.3f}, "
                              f"KID {r['kid_mean']:.5f}, precision {r['precision']:.3f}, recall {r['recall']:.3f}, "
                              f"density {r['density']:.3f}, coverage {r['coverage']:.3f} ({protocol.name}, "
                              f"{r['provenance']['classifier']})",
                              flush=True)
                if not FLAGS.follow:
                    if not found:
                        print(f"jare-eval: error: no checkpoint in {FLAGS.workdir}/checkpoints.", file=sys.stderr)
                        return 2
                    return 0
                if found and found[-1][0] >= evaluator.config["num_steps"]:
                    return 0
                if FLAGS.follow_timeout and time.monotonic() - start > FLAGS.follow_timeout:
                    print("jare-eval: --follow_timeout reached before the run's final checkpoint.", file=sys.stderr)
                    return 3
                time.sleep(FLAGS.poll_seconds)
    except (ValueError, ClassifierUnavailable, WorkdirBusy) as e:
        print(f"jare-eval: error: {e}", file=sys.stderr)
        return 2


def run():
    cli.run(main, __name__)


if __name__ == "__main__":
    run()
