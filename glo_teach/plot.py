"""Figures shared by the chapters: image grids and 2-D sample scatter plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ._validate import check_images
from .data.constants import PIXEL_MAX, PIXEL_MIN

__all__ = ["image_grid", "show_images", "scatter_samples"]


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 1) -> torch.Tensor:
    """Tile a batch (N, C, H, W) in [-1, 1] into one (H', W', C) array in [0, 1] for ``imshow``."""
    images = check_images(images).detach().float().cpu()
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values: the model that made them has diverged")
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    grid = torch.ones(c, nrows * (h + pad) + pad, ncol * (w + pad) + pad)
    x = ((images - PIXEL_MIN) / (PIXEL_MAX - PIXEL_MIN)).clamp(0, 1)
    for k in range(n):
        r, q = divmod(k, ncol)
        grid[:, pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = x[k]
    return grid.permute(1, 2, 0)  # (C, H', W') -> (H', W', C)


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None, scale: float = 0.6):
    """Draw :func:`image_grid` on ``ax`` (a new figure when None); returns the axes."""
    grid = image_grid(images, nrow).numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(scale * grid.shape[1] / 10, scale * grid.shape[0] / 10))
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def scatter_samples(samples: torch.Tensor, centers: torch.Tensor | None = None, ax=None, title: str | None = None):
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
