"""Section nk: streamlines of Nagarajan & Kolter's Fig. 3 (GAN and WGAN, generator-only η ∈ {0, .25, .5, 1})."""

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from jare_tf import methods, settings
from jare_tf.reports.toy.common import Fragment


def nk(out: Fragment):
    config = settings.load("nk_streamlines")
    etas, families = list(config.data.etas), list(config.data.families)
    out.lines += ["## Nagarajan & Kolter Fig. 3: generator-only regularisation", "",
                  "Streamlines of the update vector field −u around the equilibrium (a, w₂) = (1, 0) for "
                  "D(x) = w₂x², G(z) = a·z, data and latent uniform on [−1, 1] (256-point midpoint "
                  "quadrature); η is N&K's weight, γ = 2η here.", ""]
    fig, axes = plt.subplots(len(families), len(etas), figsize=(3.2 * len(etas), 3.2 * len(families)),
                             squeeze=False, constrained_layout=True)
    grid_a, grid_w = np.linspace(0.0, 2.0, 15), np.linspace(-1.0, 1.0, 15)
    quad = ((np.arange(256) + 0.5) / 256 * 2 - 1).reshape(-1, 1)
    batch = {"real": tf.constant(quad, tf.float64), "z": tf.constant(quad, tf.float64)}
    from jare_tf.games import Game, Players
    from jare_tf.models import toy
    for row, family in enumerate(families):
        game = Game(toy.nk_generator(1.0, "float64"), toy.nk_discriminator(0.0, "float64"), family=family)
        for col, eta in enumerate(etas):
            method = methods.get("gen_only", gamma=2 * eta)
            ua, uw = np.zeros((15, 15)), np.zeros((15, 15))
            for i, w2 in enumerate(grid_w):
                for j, a in enumerate(grid_a):
                    p = Players([tf.constant([[a]], tf.float64)], [tf.constant([w2], tf.float64)])
                    u = method.directions(game, p, game.state(), batch).updates
                    ua[i, j], uw[i, j] = -u.g[0].numpy().item(), -u.d[0].numpy().item()
            ax = axes[row, col]
            ax.streamplot(grid_a, grid_w, ua, uw, density=0.8, linewidth=0.6, arrowsize=0.6)
            ax.plot([1], [0], "r*")
            ax.set_title(f"{'GAN' if family == 'vanilla' else 'WGAN'}, η = {eta:g}", fontsize=9)
            ax.set_xlabel("a", fontsize=8)
            ax.set_ylabel("w₂", fontsize=8)
    out.figure(fig, "nk_streamlines.png", "N&K Fig. 3 streamlines")
    out.lines += ["Without regularisation the WGAN field circles the equilibrium; with η > 0 it spirals in.", ""]
