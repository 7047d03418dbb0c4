"""Setting A: the SN-GAN standard CNN with batch normalisation in G (conv4), Adam (JARE paper Sec. 7, Fig. 3).

    jare-train --setting=A --method=jare --workdir=/tmp/A_jare
"""

from . import image


def get_config():
    return image.base("setting_a", "conv4")
