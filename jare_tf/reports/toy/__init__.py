"""`jare-reproduce toy`: the toy experiments of the JARE paper and of Mescheder et al. 2018, end to end.

Sections (each can be run alone with --only):
  fig1    isotropic Gaussian, μ = 4, σ² = 0.04: gan vs conopt vs jare (JARE paper Fig. 1)
  fig5    isotropic, σ = 0.2, μ ∈ {2, 4, 6} (Fig. 5; ConOpt's η_max drops below the step at μ = 6)
  fig6    isotropic, μ = 2, σ ∈ {0.5, 0.7} (Fig. 6)
  fig2    mixture of Gaussians, r = 2, γ = 10: gan, conopt, jare to 20,000 steps (Fig. 2); SimGD over 3 seeds
  fig7    mixture of Gaussians, r = 2, γ = 1000 (Fig. 7)
  fig8    mixture of Gaussians, r = 10, γ = 1000 (Fig. 8): gan, conopt, jare; latent variance r and 2r
The MoG sections show a strict view (3 std of a mode) and a scale-aware one (distances over r; evaluation/
toy_metrics.py).
  dirac   the Dirac-GAN: Table 1 and Fig. 3 of Mescheder et al. 2018, and the JARE paper's Appendix C
  nk      streamlines of Nagarajan & Kolter's Fig. 3 (GAN and WGAN, generator-only η ∈ {0, .25, .5, 1})
  lazy    lazy regularisation (every = k ∈ {1, 2, 4, 8, 16}) of JARE and ConOpt: the k-iteration operator's rate
          and largest stable step, and runs (isotropic Fig. 1, Dirac-GAN, MoG r = 2)
  numerics  eigenvalues of the game Jacobian at the end of training on mog_numerics for SimGD, ConOpt and JARE
          (dense, 2,003 parameters), as Mescheder et al. 2017's eigenvalue plots, beside the top-20 Krylov values
  sec6    Sec. 6 of the JARE paper on the linear-Gaussian game: Lemma 3's blocks, Theorem 4's form, the extreme
          cases after it and Theorem 5's limit (analysis/general_gans.py; seconds)
Modules: isotropic.py (fig1, fig5, fig6), mog.py (fig2, fig7, fig8), dirac.py, nk.py, lazy.py, numerics.py and
sec6.py; common.py holds what they share (the run helper, figures, fragments, timings, fmt and slugify).

Every number and figure in the report is computed by these modules from runs they make. A section is a function
of a common.Fragment: it runs its experiments and appends its markdown lines and figures to it. `write` stores
each section as its own fragment (toy/sections/<section>.md) and assembles toy.md from the fragments, so rerunning
one section replaces exactly that part; the committed docs/results/toy.md is what the command wrote, and each
section names the commit that made it (common.write).
"""

from typing import Callable, Dict, Sequence

# common first: it selects matplotlib's Agg backend before any section imports pyplot.
from jare_tf.reports.toy import common
from jare_tf.reports.toy import dirac, isotropic, lazy, mog, nk, numerics, sec6

#: Every section in toy.md's order, each a function that fills a common.Fragment.
SECTIONS: Dict[str, common.Section] = {
    "fig1": isotropic.fig1,
    "fig5": isotropic.fig5,
    "fig6": isotropic.fig6,
    "fig2": mog.fig2,
    "fig7": mog.fig7,
    "fig8": mog.fig8,
    "dirac": dirac.dirac,
    "nk": nk.nk,
    "lazy": lazy.lazy,
    "numerics": numerics.numerics,
    "sec6": sec6.sec6,
}


def write(report_dir: str, workdir: str, sections: Sequence[str], log: Callable[[str], None] = print) -> str:
    """Run `sections` (names in SECTIONS) into report_dir/toy/sections/ and reassemble report_dir/toy.md; its path."""
    return common.write(report_dir, workdir, SECTIONS, sections, log)
