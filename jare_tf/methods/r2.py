"""R2: the zero-centred gradient penalty on generated data, (γ/2)E_{p_φ}‖∇_x D(x)‖² (Mescheder et al. 2018,
eq. 10). See `zero_centred.py` for the shared formula and its weight convention.
"""

from jare_tf.methods import base
from jare_tf.methods.zero_centred import ZeroCentredPenalty


@base.register("r2")
class R2(ZeroCentredPenalty):
    samples = "fake"
