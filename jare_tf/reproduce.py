r"""jare-reproduce: regenerate a results report under docs/results/ from runs it makes.

    jare-reproduce toy                                  # everything: docs/results/toy.md and its figures
    jare-reproduce toy --only=fig1 --report_dir=runs/fig1 --workdir=runs/fig1   # one section, elsewhere

Sections of `toy`: fig1, fig5, fig6 (isotropic Gaussian, seconds each), fig2, fig7, fig8 (mixture of Gaussians,
several minutes each on two cores), dirac (Dirac-GAN), nk (Nagarajan & Kolter streamlines). Each section
replaces its own part of the report; the others are kept.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import app, flags  # noqa: E402

flags.DEFINE_list("only", None, "Sections to run (default: all).")
flags.DEFINE_string("report_dir", "docs/results", "Where the report (toy.md) and its figures (toy/) go.")
flags.DEFINE_string("workdir", "/tmp/jare_reproduce", "Where each run's TensorBoard events and metrics go.")
FLAGS = flags.FLAGS

REPORTS = ("toy",)


def main(argv):
    if len(argv) != 2 or argv[1] not in REPORTS:
        print(f"usage: jare-reproduce {{{'|'.join(REPORTS)}}} [--only=...] [--report_dir=...] [--workdir=...]",
              file=sys.stderr)
        return 2
    from jare_tf.reports import toy_report
    sections = FLAGS.only or list(toy_report.SECTIONS)
    unknown = sorted(set(sections) - set(toy_report.SECTIONS))
    if unknown:
        print(f"jare-reproduce: error: unknown section(s) {unknown}; valid: {', '.join(toy_report.SECTIONS)}",
              file=sys.stderr)
        return 2
    path = toy_report.Report(FLAGS.report_dir, FLAGS.workdir).write(sections)
    print(f"Report: {path} (figures in {os.path.join(FLAGS.report_dir, 'toy')}); TensorBoard: "
          f"tensorboard --logdir {FLAGS.workdir}")
    return 0


def run():
    app.run(main)


if __name__ == "__main__":
    run()
