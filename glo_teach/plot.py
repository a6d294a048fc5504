"""Figures shared by the chapters: image grids, 2-D sample scatter plots, and sliders."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from ._env import env_switch
from ._validate import check_images
from .data.constants import PIXEL_MAX, PIXEL_MIN

__all__ = [
    "image_grid",
    "show_images",
    "scatter_samples",
    "widgets_enabled",
    "interact",
]

# The built book's content column is about 8 inches at matplotlib's 100 dpi (800 px); a wider
# PNG is scaled down to it, and its title with it (a 33-inch strip's 12 pt title reads as 3 pt).
PAGE_WIDTH_IN = 8.0
ROW_LABEL_FONTSIZE = 10
TITLE_HEIGHT_IN = 0.3  # a one-line title at the default 12 pt, with its padding


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 1) -> torch.Tensor:
    """Tile a batch (N, C, H, W) in [-1, 1] into one (H', W', C) array in [0, 1] for ``imshow``."""
    images = check_images(images).detach().float().cpu()
    if not torch.isfinite(images).all():
        raise ValueError(
            "images contain NaN or infinite values: the model that made them has diverged"
        )
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = torch.ones(c, nrows * (h + pad) + pad, ncol * (w + pad) + pad)
    x = ((images - PIXEL_MIN) / (PIXEL_MAX - PIXEL_MIN)).clamp(0, 1)
    for k in range(n):
        r, q = divmod(k, ncol)
        grid[
            :,
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + q * (w + pad) : pad + q * (w + pad) + w,
        ] = x[k]
    return grid.permute(1, 2, 0)  # (C, H', W') -> (H', W', C)


def show_images(
    images: torch.Tensor,
    nrow: int = 8,
    title: str | None = None,
    ax=None,
    scale: float = 0.6,
    row_labels: Sequence[str] | None = None,
):
    """Draw :func:`image_grid` on ``ax``; returns the axes.

    Without ``ax``, a new figure ``scale`` inches per 10 grid pixels, shrunk (aspect kept) to at most
    ``PAGE_WIDTH_IN`` wide, plus ``TITLE_HEIGHT_IN`` for a title: the page then shows it unscaled, so
    its title reads at its own size.
    ``row_labels`` (one per grid row, ``ceil(N / nrow)``) are written left of the rows.
    """
    grid = image_grid(images, nrow).numpy()
    if ax is None:
        width, height = scale * grid.shape[1] / 10, scale * grid.shape[0] / 10
        shrink = min(1.0, PAGE_WIDTH_IN / width)
        # room for the title on top, or the equal-aspect image shrinks to make it (a thin strip loses half)
        extra = TITLE_HEIGHT_IN if title else 0.0
        _, ax = plt.subplots(
            figsize=(width * shrink, height * shrink + extra), layout="constrained"
        )
    ax.imshow(
        grid.squeeze(-1) if grid.shape[-1] == 1 else grid,
        cmap="gray",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    if row_labels is None:
        ax.set_axis_off()
    else:
        n, h = images.shape[0], images.shape[-2]
        rows = -(-n // min(nrow, n))
        if len(row_labels) != rows:
            raise ValueError(
                f"row_labels: {rows} rows of {min(nrow, n)} images need {rows} labels, got {len(row_labels)}"
            )
        # tick labels rather than free text, so that a constrained layout makes room for them
        pad = 1  # image_grid's default
        ax.set_xticks([])
        ax.set_yticks(
            [pad + r * (h + pad) + (h - 1) / 2 for r in range(rows)], list(row_labels)
        )
        ax.tick_params(length=0, labelsize=ROW_LABEL_FONTSIZE)
        for spine in ax.spines.values():
            spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def scatter_samples(
    samples: torch.Tensor,
    centers: torch.Tensor | None = None,
    ax=None,
    title: str | None = None,
):
    """Scatter 2-D samples (N, 2), with mode centres as red crosses when given."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    s = samples.detach().cpu()
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.5)
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red", s=40)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def widgets_enabled() -> bool:
    """Whether chapters draw ipywidgets sliders: ``$GLO_TEACH_WIDGETS`` = 1/0 decides when set (the book
    build sets 0: a slider in a static page is a dead control, and its embedded state a frozen copy of
    one frame, so the page shows the static figure beside it instead); otherwise on."""
    return env_switch("GLO_TEACH_WIDGETS") is not False


def interact(function, **sliders):
    """``ipywidgets.interact(function, **sliders)`` when :func:`widgets_enabled`, else nothing (None).

    ``sliders`` are ipywidgets' abbreviations, e.g. ``t=(0.0, 1.0, 0.1)`` (min, max, step): no widget
    object exists until this call, so a build with widgets off records no widget state at all.
    """
    if not widgets_enabled():
        return None
    import ipywidgets

    return ipywidgets.interact(function, **sliders)
