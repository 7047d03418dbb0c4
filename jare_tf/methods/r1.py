"""R1: the zero-centred gradient penalty on real data, (γ/2)E_{p_D}‖∇_x D(x)‖² (Mescheder et al. 2018, eq. 9).

See `zero_centred.py` for the shared formula, its weight convention and the Dirac-GAN eigenvalues (Lemma 3.3).
"""

from jare_tf.methods import base
from jare_tf.methods.zero_centred import ZeroCentredPenalty


@base.register("r1")
class R1(ZeroCentredPenalty):
    samples = "real"
