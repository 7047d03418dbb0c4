"""Figures: sample densities of the toy settings (a Gaussian KDE on a grid) rendered to PNG, and the check that
every figure of the reports is readable (size, axis labels, no overlapping panels)."""

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


#: Report figures are saved at this resolution; a figure must be at least MIN_PIXELS wide and high there.
REPORT_DPI = 110
MIN_PIXELS = (640, 400)


class UnreadableFigure(ValueError):
    pass


def check_readable(fig, labelled: bool = True, min_pixels: Tuple[int, int] = MIN_PIXELS) -> None:
    """Refuse (UnreadableFigure) a figure that is too small at REPORT_DPI, whose panels (each with its title, tick
    labels and axis labels) overlap one another, or, with `labelled`, a panel with curves or points but no x or
    y label. Density panels (no ticks, a labelled extent in the caption) pass labelled=False."""
    width, height = fig.get_size_inches() * REPORT_DPI
    if width < min_pixels[0] or height < min_pixels[1]:
        raise UnreadableFigure(f"figure is {width:.0f}×{height:.0f} px at {REPORT_DPI} dpi; at least "
                               f"{min_pixels[0]}×{min_pixels[1]} px is readable")
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    if labelled:
        for ax in axes:
            if (ax.lines or ax.collections) and not (ax.get_xlabel() and ax.get_ylabel()):
                raise UnreadableFigure(f"panel {ax.get_title()!r} has no {'x' if not ax.get_xlabel() else 'y'} "
                                       f"label")
    boxes = [ax.get_tightbbox(renderer) for ax in axes]
    for i in range(len(axes)):
        for j in range(i + 1, len(axes)):
            a, b = boxes[i], boxes[j]
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            if overlap_x > 1 and overlap_y > 1:
                raise UnreadableFigure(f"panels {axes[i].get_title()!r} and {axes[j].get_title()!r} overlap "
                                       f"({overlap_x:.0f}×{overlap_y:.0f} px)")


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def density_png(samples: np.ndarray, extent, centres: Sequence = (), title: str = "") -> bytes:
    fig, ax = plt.subplots(figsize=(3, 3))
    draw_density(ax, samples, extent, centres, title)
    return png_bytes(fig)


def eigenvalue_scatter_png(eigenvalues: np.ndarray, converged: np.ndarray, title: str = "") -> bytes:
    """The complex plane with the Ritz values of a Krylov spectrum (converged filled, the others hollow), as
    TensorBoard shows them beside the scalars (Mescheder et al. 2017's eigenvalue plots)."""
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    lam, ok = np.asarray(eigenvalues), np.asarray(converged, bool)
    ax.scatter(lam.real[ok], lam.imag[ok], s=14, c="tab:blue", label="converged")
    if (~ok).any():
        ax.scatter(lam.real[~ok], lam.imag[~ok], s=14, facecolors="none", edgecolors="tab:red",
                   label="not converged")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.axvline(0, color="0.7", lw=0.6)
    ax.set_xlabel("Re λ", fontsize=8)
    ax.set_ylabel("Im λ", fontsize=8)
    ax.legend(fontsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    return png_bytes(fig)
