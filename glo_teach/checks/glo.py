"""Checks for the GLO chapter: the ball projection, the Gaussian blur, the Laplacian pyramid, Lap1, pSNR.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..glo.codes import project_to_ball, project_to_sphere
from ..glo.pyramid import (
    _expand,
    _reduce,
    blur,
    gaussian_kernel_1d,
    lap1_loss,
    lap1_weights,
    laplacian_pyramid,
    reconstruct,
)
from ._core import StudentError, call, compare, diagnose, student_check

__all__ = [
    "check_ball_projection",
    "check_gaussian_blur",
    "check_laplacian_pyramid",
    "check_pyramid_reconstruct",
    "check_lap1",
    "check_psnr",
]

F64 = torch.float64


@student_check
def check_ball_projection(fn: Callable) -> str:
    """fn(z) must return z / max(||z||_2, 1) row by row (codes (N, d) inside the ball unchanged).
    Book: {eq}`glo-projection`."""
    g = torch.Generator().manual_seed(10)
    cases = []
    for n, d in [(12, 5), (7, 2)]:
        z = torch.randn(n, d, generator=g, dtype=F64)
        z = (
            z
            / z.norm(dim=1, keepdim=True)
            * torch.linspace(0.2, 3.0, n, dtype=F64)[:, None]
        )  # norms 0.2 .. 3
        cases.append((f"{n} codes of dimension {d}, norms from 0.2 to 3", (z,)))
    return diagnose(
        fn,
        project_to_ball,
        cases,
        [
            (
                "you project onto the unit sphere: codes already inside the ball must stay unchanged",
                project_to_sphere,
            ),
            (
                "the norm is per code (over dim 1), not per latent coordinate over the batch",
                lambda z: z / z.norm(dim=0, keepdim=True).clamp(min=1.0),
            ),
            (
                "clipping each coordinate to [-1, 1] is not the l2 projection",
                lambda z: z.clamp(-1.0, 1.0),
            ),
            (
                "divide by max(||z||, 1), not min(||z||, 1)",
                lambda z: z / z.norm(dim=1, keepdim=True).clamp(max=1.0),
            ),
        ],
    )


def _filter2d(x: torch.Tensor, K: torch.Tensor, pad: str = "reflect") -> torch.Tensor:
    """Each channel of x (N, C, H, W) filtered with the 2-D kernel K, same-size output."""
    n, c, h, w = x.shape
    p = (K.shape[0] - 1) // 2
    y = F.pad(x.reshape(n * c, 1, h, w), (p, p, p, p), mode=pad)  # (N*C, 1, H+2p, W+2p)
    return F.conv2d(y, K[None, None].to(x)).reshape(n, c, h, w)


@student_check
def check_gaussian_blur(fn: Callable) -> str:
    """fn(x) must blur each channel of x (N, C, H, W) with the 2-D kernel K(u, v) = k(u) k(v),
    k = [1, 4, 6, 4, 1] / 16, reflect padding, same-size output. Book: {eq}`laplacian-pyramid`."""
    g = torch.Generator().manual_seed(11)
    cases = [
        (
            "images of shape (2, 3, 8, 8)",
            (torch.randn(2, 3, 8, 8, generator=g, dtype=F64),),
        ),
        (
            "images of shape (1, 1, 9, 7)",
            (torch.randn(1, 1, 9, 7, generator=g, dtype=F64),),
        ),
    ]
    k = gaussian_kernel_1d(dtype=F64)
    k_sum = k[:, None] + k[None, :]  # (5, 5), the wrong "sum" kernel
    return diagnose(
        fn,
        blur,
        cases,
        [
            (
                "the 2-D kernel is the *product* k(u) k(v) of the 1-D Gaussians, not their sum",
                lambda x: _filter2d(x, k_sum / k_sum.sum()),
            ),
            (
                "the 2-D kernel is the *product* k(u) k(v) of the 1-D Gaussians, not their (unnormalised) sum",
                lambda x: _filter2d(x, k_sum),
            ),
            (
                "you blur along one axis only; filter the rows and the columns",
                lambda x: _filter2d(
                    x, k[:, None] * (torch.arange(5) == 2).to(k)[None, :]
                ),
            ),
            (
                "the borders differ: pad with reflection (mode='reflect'), not zeros",
                lambda x: _filter2d(x, k[:, None] * k[None, :], pad="constant"),
            ),
        ],
    )


@student_check
def check_laplacian_pyramid(fn: Callable) -> str:
    """fn(x, levels) must return [L_0, ..., L_{K-1}], L_k = G_k - EXPAND(G_{k+1}) fine to coarse and
    L_{K-1} = G_{K-1} the low-pass residual (the library's blur, REDUCE and EXPAND).
    Book: {eq}`laplacian-pyramid`."""
    g = torch.Generator().manual_seed(12)
    for shape, levels in [((2, 1, 16, 16), 3), ((1, 3, 32, 32), 4)]:
        x = torch.randn(shape, generator=g, dtype=F64)
        out = call(fn, x, levels)
        want = laplacian_pyramid(x, levels)
        if not isinstance(out, (list, tuple)) or not all(
            isinstance(t, torch.Tensor) for t in out
        ):
            raise StudentError(
                f"should return a list of tensors, got {type(out).__name__}"
            )
        if len(out) != levels:
            raise StudentError(
                f"expected {levels} levels for levels={levels} (the last one the low-pass residual), "
                f"got {len(out)}"
            )
        shapes, want_shapes = (
            [tuple(t.shape) for t in out],
            [tuple(t.shape) for t in want],
        )
        if shapes == want_shapes[::-1]:
            raise StudentError(
                "the levels are in coarse-to-fine order; L_0 is the full-resolution detail"
            )
        if shapes != want_shapes:
            raise StudentError(
                f"level shapes {shapes} for an input {shape}, expected {want_shapes}"
            )
        gaussians = [x]
        for _ in range(levels - 1):
            gaussians.append(_reduce(gaussians[-1], None))
        nearest = [
            gk - F.interpolate(gn, scale_factor=2, mode="nearest")
            for gk, gn in zip(gaussians, gaussians[1:])
        ]
        flat = lambda ts: torch.cat([t.flatten() for t in ts])  # noqa: E731
        mistakes = [
            (
                "those are the Gaussian levels G_k; the Laplacian levels are differences G_k - EXPAND(G_{k+1})",
                gaussians,
            ),
            (
                "EXPAND must insert zeros and blur with gain 4, not repeat pixels",
                nearest + [gaussians[-1]],
            ),
            (
                "the last level is the low-pass residual G_{K-1} itself, not another difference",
                laplacian_pyramid(x, levels + 1)[:levels],
            ),
            (
                "EXPAND needs gain 4 (inserting zeros leaves a quarter of the mass)",
                [gk - _expand(gn, None) / 4 for gk, gn in zip(gaussians, gaussians[1:])]
                + [gaussians[-1]],
            ),
        ]
        compare(
            [flat(out)],
            [flat(want)],
            [f"an input {shape} with {levels} levels"],
            [(h, [flat(w)]) for h, w in mistakes],
        )
    return "matches the reference on 2 random inputs (3 and 4 levels)"


@student_check
def check_pyramid_reconstruct(fn: Callable) -> str:
    """fn(pyramid) must invert :func:`glo_teach.glo.laplacian_pyramid`: G_{K-1} = L_{K-1}, then
    G_k = L_k + EXPAND(G_{k+1}) from coarse to fine (EXPAND: insert zeros, blur, gain 4); returns G_0.
    Book: {eq}`laplacian-pyramid`."""
    g = torch.Generator().manual_seed(15)
    cases = [
        (
            f"the {k}-level pyramid of images {s}",
            (laplacian_pyramid(torch.randn(s, generator=g, dtype=F64), k),),
        )
        for s, k in [((2, 1, 16, 16), 3), ((1, 3, 32, 32), 4)]
    ]

    def rebuild(pyr, up, start=None):
        x = pyr[-1] if start is None else start(pyr[-1])
        for detail in reversed(pyr[:-1]):
            x = detail + up(x)
        return x

    return diagnose(
        fn,
        reconstruct,
        cases,
        [
            (
                "EXPAND inserts zeros and blurs with gain 4; repeating pixels does not undo the pyramid's REDUCE",
                lambda pyr: rebuild(
                    pyr, lambda x: F.interpolate(x, scale_factor=2, mode="nearest")
                ),
            ),
            (
                "EXPAND needs gain 4: inserting zeros leaves a quarter of the mass",
                lambda pyr: rebuild(pyr, lambda x: _expand(x, None) / 4),
            ),
            (
                "the low-pass residual L_{K-1} is part of the image: start the reconstruction from it, not from zero",
                lambda pyr: rebuild(
                    pyr, lambda x: _expand(x, None), start=torch.zeros_like
                ),
            ),
            (
                "you add the levels upsampled to full size; each level must be expanded once per level below it, "
                "coarse to fine, G_k = L_k + EXPAND(G_{k+1})",
                lambda pyr: sum(
                    F.interpolate(
                        lk, size=pyr[0].shape[2:], mode="bilinear", align_corners=False
                    )
                    for lk in pyr
                ),
            ),
        ],
    )


def _lap1_variant(
    x: torch.Tensor, y: torch.Tensor, weights: list[float], level_fn: Callable
) -> torch.Tensor:
    pyr = laplacian_pyramid(torch.cat([x, y]))  # 4 levels, as lap1_loss
    n = len(x)
    return sum(w * level_fn(lk[:n] - lk[n:]) for w, lk in zip(weights, pyr)).mean()


@student_check
def check_lap1(fn: Callable) -> str:
    """fn(x, y) must return Lap1 = sum_k 2^{-2k} mean_{c,h,w} |L_k(x) - L_k(y)|, 4 levels (k = 0 finest),
    averaged over the batch (a scalar). Book: {eq}`glo-lap1`."""
    g = torch.Generator().manual_seed(13)
    images = lambda s: torch.rand(s, generator=g, dtype=F64) * 2 - 1  # noqa: E731, in [-1, 1]
    cases = [
        (f"images of shape {s}", (images(s), images(s)))
        for s in [(4, 1, 32, 32), (2, 3, 16, 16)]
    ]
    w = lap1_weights(4)
    mean_abs = lambda d: d.abs().flatten(1).mean(1)  # noqa: E731
    return diagnose(
        fn,
        lap1_loss,
        cases,
        [
            (
                "the weights are reversed: the finest level L_0 has weight 1 and level k weight 2^{-2k}",
                lambda x, y: _lap1_variant(x, y, w[::-1], mean_abs),
            ),
            (
                "the levels must be weighted by 2^{-2k}",
                lambda x, y: _lap1_variant(x, y, [1.0] * 4, mean_abs),
            ),
            (
                "the weights are 2^{-2k} = 4^{-k}, not 2^{-k}",
                lambda x, y: _lap1_variant(x, y, [2.0**-k for k in range(4)], mean_abs),
            ),
            (
                "each level's |.|_1 is a *mean* over its coefficients here, not a sum",
                lambda x, y: _lap1_variant(
                    x, y, w, lambda d: d.abs().flatten(1).sum(1)
                ),
            ),
            (
                "Lap1 uses absolute values |.|, not squares",
                lambda x, y: _lap1_variant(
                    x, y, w, lambda d: d.pow(2).flatten(1).mean(1)
                ),
            ),
            (
                "that is the plain pixel l1 distance; compare the Laplacian pyramids of x and y",
                lambda x, y: (x - y).abs().flatten(1).mean(1).mean(),
            ),
        ],
    )


@student_check
def check_psnr(fn: Callable) -> str:
    """fn(x, y) must return the mean over images of 10 log10(MAX^2 / MSE_i), MAX = 2 for images in
    [-1, 1], MSE_i the mean over (C, H, W) (a float or a 0-d tensor). Book: {eq}`psnr`."""
    from ..metrics.psnr import (
        psnr,
    )  # imported late: the metrics package pulls in the classifier

    def ref(x, y):
        return torch.tensor(psnr(x, y), dtype=F64)

    g = torch.Generator().manual_seed(14)
    cases = []
    for s in [(8, 1, 8, 8), (3, 3, 16, 16)]:
        x = torch.rand(s, generator=g, dtype=F64) * 2 - 1
        noise = (
            torch.randn(s, generator=g, dtype=F64)
            * torch.logspace(-2, -0.5, s[0], dtype=F64)[:, None, None, None]
        )
        cases.append(
            (
                f"images of shape {s} with noise of varying size",
                (x, (x + noise).clamp(-1, 1)),
            )
        )
    mse = lambda x, y: (x - y).pow(2).flatten(1).mean(1)  # noqa: E731
    return diagnose(
        fn,
        ref,
        cases,
        [
            (
                "MAX is the peak-to-peak range of [-1, 1] images, 2, not 1",
                lambda x, y: ref(x, y) - 20 * math.log10(2),
            ),
            (
                "average the per-image pSNR; you take the pSNR of the MSE pooled over all images",
                lambda x, y: 10 * torch.log10(4 / mse(x, y).mean()),
            ),
            (
                "the minus sign in the paper's Eq. 2 is a typo: pSNR is positive for good reconstructions",
                lambda x, y: -ref(x, y),
            ),
            (
                "MAX must be squared: 10 log10(MAX^2 / MSE) = 20 log10(MAX / sqrt(MSE))",
                lambda x, y: (10 * torch.log10(2 / mse(x, y))).mean(),
            ),
            (
                "10 log10 of a ratio of squares, or 20 log10 of the ratio of their roots: not 20 log10(MAX^2 / MSE)",
                lambda x, y: (20 * torch.log10(4 / mse(x, y))).mean(),
            ),
        ],
    )
