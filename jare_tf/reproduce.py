r"""jare-reproduce: regenerate a results report under docs/results/ from runs it makes.

    jare-reproduce toy                                  # everything: docs/results/toy.md and its figures
    jare-reproduce toy --only=fig1 --report_dir=runs/fig1 --workdir=runs/fig1   # one section, elsewhere
    jare-reproduce fashion_mnist --workdir=runs/repro   # docs/results/fashion_mnist.md (C, D, E × 3 seeds; hours)
    jare-reproduce fashion_mnist --only=C,jare,gan      # train/score only these; the report keeps the others
    jare-reproduce fashion_mnist --grid=pilot           # docs/results/fashion_mnist_pilot.md: GAN on C, 3 step sizes
    jare-reproduce fashion_mnist --render_only          # the report from the stored records alone, nothing trained
    jare-reproduce fashion_mnist --check_code           # after a refactor: does this code train the stored runs'?
    jare-reproduce fashion_mnist --grid=full            # A–F × 3 seeds × 20K iterations: for GPUs
    jare-reproduce fashion_mnist --grid=lazy            # docs/results/fashion_mnist_lazy.md: C, jare vs jare:every=4
    jare-reproduce fashion_mnist --grid=step_size       # docs/results/fashion_mnist_step_size.md: 1–10× the lr on C

Sections of `toy`: fig1, fig5, fig6 (isotropic Gaussian, seconds each), fig2, fig7, fig8 (mixture of Gaussians,
several minutes each on two cores), dirac (Dirac-GAN), nk (Nagarajan & Kolter streamlines), lazy (lazy
regularisation), numerics (mog_numerics eigenvalues, dense and Krylov), sec6 (the general-GAN theory of Sec. 6).
Each section
replaces its own part of the report; the others are kept.

`fashion_mnist`: GAN, SN-GAN, ConOpt and JARE on real images across settings (the paper's Fig. 3 at small scale;
jare_tf/reports/fashion_mnist/). Needs the prepared dataset (apt-get install dataset-fashion-mnist &&
jare-prepare fashion_mnist). Each finished run is stored as a JSON record under docs/results/<report>/runs/ and the
report is rendered from the records alone; running the command again skips stored runs, continues unfinished ones
and renders again (jare_tf/reports/fashion_mnist/store.py).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags  # noqa: E402

from jare_tf import cli, config_checks  # noqa: E402

flags.DEFINE_list("only", None, "toy: sections to run (default: all); fashion_mnist: settings and methods to "
                  "train and score now (e.g. C,jare).")
flags.DEFINE_string("report_dir", "docs/results", "Where the report (<report>.md) and its figures (<report>/) go.")
flags.DEFINE_string("workdir", "/tmp/jare_reproduce", "Where each run's TensorBoard events and metrics go.")
flags.DEFINE_enum("grid", "default", ["default", "full", "lazy", "pilot", "step_size"],
                  "fashion_mnist: default (C, D, E × gan, sngan, conopt, jare × 3 seeds × 2,000 iterations at the "
                  "settings' learning rates; hours of 2 CPU cores, stored run by run), pilot (GAN on C at 1×, 0.5×, "
                  "0.25× the learning rate, 3,000 iterations: the protocol's pilot), step_size (C × the 4 methods × "
                  "1, 2, 5, 10× both learning rates × 2 seeds, in the default grid's protocol and store), full (A–F × "
                  "3 seeds × 20,000, for GPUs) or lazy (C × jare, jare:every=4, 500 iterations at 5× the learning "
                  "rates; docs/results/fashion_mnist_lazy.md).")
flags.DEFINE_string("data_dir", None, "fashion_mnist: TFDS data_dir where it is prepared (default: TFDS').")
flags.DEFINE_bool("render_only", False, "fashion_mnist: render the report from the stored run records and train or "
                  "score nothing (a grid not yet complete is rendered as it stands).")
flags.DEFINE_bool("check_code", False, "fashion_mnist: check that this checkout's training code trains the stored "
                  "runs' trajectories (the first iterations of every case, this code against the commit that made "
                  "them); when it does, store that equivalence so the runs count as this code's, then render.")
FLAGS = flags.FLAGS

REPORTS = ("toy", "fashion_mnist")


def main(argv):
    problem = config_checks.positional_problem(argv, REPORTS, "report", "make")
    if problem:
        print(f"jare-reproduce: error: {problem}; valid reports: {', '.join(REPORTS)}.\n"
              f"usage: jare-reproduce {{{'|'.join(REPORTS)}}} [--only=...] [--report_dir=...] [--workdir=...]",
              file=sys.stderr)
        return 2
    if FLAGS["only"].present and not FLAGS.only:
        print("jare-reproduce: error: --only is empty; name the sections (or settings and methods) to run, or "
              "leave --only out to run them all.", file=sys.stderr)
        return 2
    for name in ("report_dir", "workdir"):
        if os.path.isfile(FLAGS[name].value):
            print(f"jare-reproduce: error: --{name}={FLAGS[name].value} is a file; pass a folder (it is created "
                  f"when missing).", file=sys.stderr)
            return 2
    if argv[1] == "fashion_mnist":
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")         # TF-GAN's deprecation warnings would drown the progress lines
        from jare_tf.data.images import DatasetNotPrepared
        from jare_tf.evaluation.classifier import ClassifierUnavailable
        from jare_tf.reports.fashion_mnist import runner
        from jare_tf.training.workdir import DiskFull, Preempted
        from jare_tf.training.workdir_lock import WorkdirBusy
        try:
            path = runner.main(FLAGS.only, FLAGS.report_dir, FLAGS.workdir, FLAGS.grid, FLAGS.data_dir,
                                             render_only=FLAGS.render_only, check=FLAGS.check_code)
        except (ValueError, DatasetNotPrepared, ClassifierUnavailable, WorkdirBusy) as e:
            print(f"jare-reproduce: error: {e}", file=sys.stderr)
            return 2
        except DiskFull as e:
            print(f"jare-reproduce: {e}", file=sys.stderr)
            return 1
        except Preempted as e:       # SIGTERM while a run trained: it stopped with a checkpoint, and so does the grid
            print(f"jare-reproduce: {e}", file=sys.stderr)
            return 143
        print(f"Report: {path}; TensorBoard: tensorboard --logdir {FLAGS.workdir}")
        return 0
    from jare_tf.reports import toy
    sections = FLAGS.only or list(toy.SECTIONS)
    unknown = sorted(set(sections) - set(toy.SECTIONS))
    if unknown:
        print(f"jare-reproduce: error: unknown section(s) {unknown}; valid: {', '.join(toy.SECTIONS)}",
              file=sys.stderr)
        return 2
    path = toy.write(FLAGS.report_dir, FLAGS.workdir, sections)
    print(f"Report: {path} (figures in {os.path.join(FLAGS.report_dir, 'toy')}); TensorBoard: "
          f"tensorboard --logdir {FLAGS.workdir}")
    return 0


def run():
    cli.run(main, __name__)


if __name__ == "__main__":
    run()
