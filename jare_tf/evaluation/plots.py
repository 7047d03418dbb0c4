"""Figures of the toy settings: sample densities (a Gaussian KDE on a grid) rendered to PNG."""

import io
from typing import Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def gaussian_kde_grid(samples: np.ndarray, extent: Tuple[float, float, float, float], resolution: int = 120):
    """Density of 2-D samples on a grid: Gaussian kernels with Scott's bandwidth per axis (the reference
    plots use scipy's gaussian_kde with Scott's rule)."""
    samples = np.asarray(samples, np.float64)
    n = len(samples)
    bandwidth = np.maximum(samples.std(axis=0), 1e-3) * n ** (-1.0 / 6.0)
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    kx = np.exp(-0.5 * ((xs[:, None] - samples[None, :, 0]) / bandwidth[0]) ** 2)
    ky = np.exp(-0.5 * ((ys[:, None] - samples[None, :, 1]) / bandwidth[1]) ** 2)
    density = ky @ kx.T / (n * 2 * np.pi * bandwidth[0] * bandwidth[1])
    return xs, ys, density


def draw_density(ax, samples: np.ndarray, extent, centres: Sequence = (), title: str = ""):
    xs, ys, density = gaussian_kde_grid(samples, extent)
    ax.contourf(xs, ys, density, levels=20, cmap="Blues")
    if len(centres):
        c = np.asarray(centres)
        ax.scatter(c[:, 0], c[:, 1], s=8, c="red", marker="x", linewidths=0.8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def density_png(samples: np.ndarray, extent, centres: Sequence = (), title: str = "") -> bytes:
    fig, ax = plt.subplots(figsize=(3, 3))
    draw_density(ax, samples, extent, centres, title)
    return png_bytes(fig)
