"""Checks for the sharpness score of chapter 9: the variance of the discrete Laplacian.

``check_laplacian_variance(fn)`` compares the student's ``fn`` with the library's reference on
fixed-seed random images and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..metrics.sharpness import LAPLACIAN, laplacian_variance
from ._core import diagnose, student_check

__all__ = ["check_laplacian_variance"]

F64 = torch.float64


def _lap(x: torch.Tensor, stencil: torch.Tensor, pad: int = 0) -> torch.Tensor:
    n, c, h, w = x.shape
    y = F.pad(x.reshape(n * c, 1, h, w), (pad,) * 4)  # zero padding when pad > 0
    return F.conv2d(y, stencil.to(x).view(1, 1, 3, 3)).reshape(
        n, -1
    )  # (N, C * H' * W')


@student_check
def check_laplacian_variance(fn: Callable) -> str:
    """fn(x) must return S_i = Var_{c,h,w}((Lap x_i)[c, h, w]) per image, shape (N,), with the 5-point
    Laplacian x[h-1,w] + x[h+1,w] + x[h,w-1] + x[h,w+1] - 4 x[h,w] on interior pixels only and the
    population variance (divisor = number of values). Book: {eq}`laplacian-variance`."""
    g = torch.Generator().manual_seed(60)
    cases = [
        (
            "images of shape (4, 1, 8, 8)",
            (torch.rand(4, 1, 8, 8, generator=g, dtype=F64) * 2 - 1,),
        ),
        (
            "images of shape (2, 3, 7, 9)",
            (torch.rand(2, 3, 7, 9, generator=g, dtype=F64) * 2 - 1,),
        ),
    ]
    eight = torch.ones(3, 3, dtype=F64)
    eight[1, 1] = -8
    return diagnose(
        fn,
        laplacian_variance,
        cases,
        [
            (
                "the border is included: zero padding invents edges where the image meets the padding; "
                "use the interior pixels only",
                lambda x: _lap(x, LAPLACIAN.double(), pad=1).var(1, correction=0),
            ),
            (
                "the score is the population variance (divide by the number of values), not the unbiased one",
                lambda x: _lap(x, LAPLACIAN.double()).var(1, correction=1),
            ),
            (
                "the score is the variance of the Laplacian, not its standard deviation",
                lambda x: _lap(x, LAPLACIAN.double()).std(1, correction=0),
            ),
            (
                "that is the 8-neighbour Laplacian; the book's is the 5-point stencil (4 neighbours, centre -4)",
                lambda x: _lap(x, eight).var(1, correction=0),
            ),
            (
                "one score per image (shape (N,)): the variance is over each image's channels and pixels, not the batch",
                lambda x: _lap(x, LAPLACIAN.double()).flatten().var(correction=0),
            ),
        ],
    )
