"""Setting A: the SN-GAN standard CNN with batch normalisation in G (conv4), Adam (JARE paper Sec. 7, Fig. 3).

    jare-train --setting=A --method=jare --workdir=/tmp/A_jare
"""

from . import image


def get_config():
    c = image.base("setting_a", "conv4")
    # G's batch norm under tf.distribute: False = each replica's own batch statistics (the usual data-parallel
    # behaviour, not the one-device run); True = statistics of the global batch (reproduces one device).
    c.sync_batch_norm = False
    return c
