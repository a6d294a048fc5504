"""Checks for walking GLO's latent space: linear interpolation and code arithmetic.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..glo.latent import arithmetic, interpolate
from ._core import diagnose, student_check

__all__ = ["check_interpolate", "check_arithmetic"]

F64 = torch.float64


def _slerp(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype).view(-1, *[1] * z_a.dim())
    cos = (z_a * z_b).sum(-1, keepdim=True) / (
        z_a.norm(dim=-1, keepdim=True) * z_b.norm(dim=-1, keepdim=True)
    )
    om = torch.acos(cos.clamp(-1, 1))
    return (torch.sin((1 - t) * om) * z_a + torch.sin(t * om) * z_b) / torch.sin(om)


@student_check
def check_interpolate(fn: Callable) -> str:
    """fn(z_a, z_b, steps) must return z(t_s) = (1 - t_s) z_a + t_s z_b, t_s = s / (steps - 1), s = 0..steps-1
    (both endpoints included): (d,) -> (steps, d), (N, d) -> (steps, N, d). Book: {eq}`glo-interpolation`."""
    g = torch.Generator().manual_seed(31)
    cases = [
        (
            "two codes of shape (5,), 7 steps",
            (
                torch.randn(5, generator=g, dtype=F64),
                torch.randn(5, generator=g, dtype=F64),
                7,
            ),
        ),
        (
            "two batches of codes (3, 4), 5 steps",
            (
                torch.randn(3, 4, generator=g, dtype=F64),
                torch.randn(3, 4, generator=g, dtype=F64),
                5,
            ),
        ),
    ]
    shape_t = lambda z, steps, t: t.view(-1, *[1] * z.dim())  # noqa: E731
    return diagnose(
        fn,
        interpolate,
        cases,
        [
            (
                "the path runs from z_b to z_a: at t = 0 it must be z_a",
                lambda a, b, s: interpolate(b, a, s),
            ),
            (
                "the last point must be z_b itself: t goes from 0 to 1 inclusive, t_s = s / (steps - 1)",
                lambda a, b, s: (
                    (1 - shape_t(a, s, torch.arange(s, dtype=F64) / s)) * a
                    + shape_t(a, s, torch.arange(s, dtype=F64) / s) * b
                ),
            ),
            (
                "the path must not skip the endpoints: z_a and z_b are its first and last points",
                lambda a, b, s: interpolate(a, b, s + 2)[1:-1],
            ),
            (
                "that is the spherical interpolation (slerp); the book's path is the straight line between the codes",
                _slerp,
            ),
        ],
    )


@student_check
def check_arithmetic(fn: Callable) -> str:
    """fn(a, b, c) must return mean_i a_i - mean_i b_i + mean_i c_i for groups of codes (N_a, d), (N_b, d),
    (N_c, d) of different sizes: shape (d,). Book: {eq}`glo-arithmetic`."""
    g = torch.Generator().manual_seed(32)
    groups = lambda sizes, d: tuple(
        torch.randn(n, d, generator=g, dtype=F64) + i for i, n in enumerate(sizes)
    )  # noqa: E731
    cases = [
        ("groups of 5, 3 and 8 codes of dimension 4", groups((5, 3, 8), 4)),
        ("groups of 2, 6 and 4 codes of dimension 6", groups((2, 6, 4), 6)),
    ]
    return diagnose(
        fn,
        arithmetic,
        cases,
        [
            (
                "the group means are averages, not sums: a group of 8 codes must not weigh 8 times one code",
                lambda a, b, c: a.sum(0) - b.sum(0) + c.sum(0),
            ),
            (
                "the sign of the third group: the analogy is A - B + C (add the new attribute's group), not A - B - C",
                lambda a, b, c: a.mean(0) - b.mean(0) - c.mean(0),
            ),
            (
                "which group is subtracted: the analogy is A - B + C (remove B's attribute), not A + B - C",
                lambda a, b, c: a.mean(0) + b.mean(0) - c.mean(0),
            ),
            (
                "that is the mean of all the codes pooled together; take each group's mean first",
                lambda a, b, c: torch.cat([a, -b, c]).mean(0),
            ),
        ],
    )
