"""Sharpness of an image: the variance of its discrete Laplacian (Pech-Pacheco et al., 2000).

Blur is a low-pass filter. The Laplacian is a high-pass one,

    (Lap x)[c, h, w] = x[c, h-1, w] + x[c, h+1, w] + x[c, h, w-1] + x[c, h, w+1] - 4 x[c, h, w],

so a blurred image has a small Laplacian everywhere and a sharp one has large responses at its
edges. The score of one image is the (population) variance of Lap x over its channels and interior
pixels; the border, where a neighbour is missing, is left out rather than padded (padding would
invent an edge). A +-1 checkerboard has Lap x = -8 x, hence variance 64; a constant image has 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._validate import check_images

__all__ = ["laplacian_variance"]

LAPLACIAN = torch.tensor(
    [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]
)  # the 5-point stencil


def laplacian_variance(x: torch.Tensor) -> torch.Tensor:
    """S_i = Var_{c,h,w}((Lap x_i)[c, h, w]) over interior pixels (population variance); shape (N,), float64.

    Larger is sharper; blur lowers it. Book: {eq}`laplacian-variance`.
    """
    check_images(x, "x")
    n, c, h, w = x.shape
    if h < 3 or w < 3:
        raise ValueError(f"x needs at least 3x3 pixels for the Laplacian, got {h}x{w}")
    lap = F.conv2d(
        x.detach().double().reshape(n * c, 1, h, w), LAPLACIAN.double().view(1, 1, 3, 3)
    )  # (N*C, 1, H-2, W-2)
    return lap.reshape(n, -1).var(dim=1, correction=0)  # (N,)
