"""Checks for latent optimisation in GANs: CS-GAN's gradient step and LOGAN's natural-gradient step.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference
(:func:`glo_teach.gan.latent_optimise`, one step, every coordinate optimised, uniform prior) on
fixed-seed random codes and a small fixed nonlinear G and D, and prints one line; see
:mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..gan.latent_opt import latent_optimise
from ._core import diagnose, student_check

__all__ = ["check_latent_gd_step", "check_latent_ngd_step"]

F64 = torch.float64


def _toy_pair(seed: int, d: int, m: int) -> tuple[Callable, Callable]:
    """G(z) = tanh(z A) (N, d) -> (N, m) and D(x) = x v + 0.5 ||x||^2 (N, m) -> (N,): smooth, per sample."""
    g = torch.Generator().manual_seed(seed)
    a, v = (
        torch.randn(d, m, generator=g, dtype=F64),
        torch.randn(m, generator=g, dtype=F64),
    )
    return (lambda z: torch.tanh(z @ a)), (lambda x: x @ v + 0.5 * x.pow(2).sum(1))


def _cases(seed: int, extra: tuple) -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for n, d, m in [(6, 4, 3), (9, 5, 2)]:
        z = (
            torch.rand(n, d, generator=g, dtype=F64) * 2 - 1
        )  # U(-1, 1), some codes near the border
        G, D = _toy_pair(seed + n, d, m)
        cases.append((f"{n} codes of dimension {d} (uniform prior)", (z, G, D, *extra)))
    return cases


def _grad(
    z: torch.Tensor, G: Callable, D: Callable, reduce: str = "sum"
) -> torch.Tensor:
    z = z.detach().requires_grad_(True)
    f = D(G(z))
    (g,) = torch.autograd.grad(f.sum() if reduce == "sum" else f.mean(), z)
    return g  # (N, d)


@student_check
def check_latent_gd_step(fn: Callable) -> str:
    """fn(z, G, D, alpha) must return z' = clip(z + alpha g, -1, 1) with g_i = d D(G(z_i)) / d z_i,
    for codes z (N, d) of the uniform prior; every coordinate moves. Book: {eq}`logan-gd`."""
    alpha = 1.5  # large enough that some codes reach the clip

    def ref(z, G, D, a):
        return latent_optimise(
            z, G, D, steps=1, method="gd", alpha=a, prior="uniform", create_graph=False
        )[0]

    return diagnose(
        fn,
        ref,
        _cases(40, (alpha,)),
        [
            (
                "the step descends the score: latent optimisation moves z *up* the gradient of D(G(z)), "
                "so the sample looks more real to D",
                lambda z, G, D, a: (z - a * _grad(z, G, D)).clamp(-1, 1),
            ),
            (
                "z' leaves the prior's support: clip it to [-1, 1] after the step",
                lambda z, G, D, a: z + a * _grad(z, G, D),
            ),
            (
                "the gradient of the batch *mean* of the scores scales every g_i by 1/N; each code's step "
                "is the gradient of its own score (differentiate the sum)",
                lambda z, G, D, a: (z + a * _grad(z, G, D, "mean")).clamp(-1, 1),
            ),
            (
                "the clip bounds the new code z', not the step dz",
                lambda z, G, D, a: z + (a * _grad(z, G, D)).clamp(-1, 1),
            ),
        ],
    )


@student_check
def check_latent_ngd_step(fn: Callable) -> str:
    """fn(z, G, D, alpha, beta) must return z' = clip(z + alpha g_i / (beta + ||g_i||^2), -1, 1) per sample,
    g_i = d D(G(z_i)) / d z_i, codes z (N, d) of the uniform prior. Book: {eq}`logan-ngd`."""
    alpha, beta = 0.9, 0.5

    def ref(z, G, D, a, b):
        return latent_optimise(
            z,
            G,
            D,
            steps=1,
            method="ngd",
            alpha=a,
            beta=b,
            prior="uniform",
            create_graph=False,
        )[0]

    def step(z, G, D, a, b, denom):
        g = _grad(z, G, D)
        return (z + a * g / denom(g, b)).clamp(-1, 1)

    return diagnose(
        fn,
        ref,
        _cases(41, (alpha, beta)),
        [
            (
                "||g||^2 is per sample: each code's step is damped by its own gradient's norm, not the whole batch's",
                lambda z, G, D, a, b: step(
                    z, G, D, a, b, lambda g, b: b + g.pow(2).sum()
                ),
            ),
            (
                "the damping uses the *squared* norm: beta + ||g||^2 (Sherman-Morrison on g g^T + beta I)",
                lambda z, G, D, a, b: step(
                    z, G, D, a, b, lambda g, b: b + g.norm(dim=1, keepdim=True)
                ),
            ),
            (
                "that is the plain gradient step alpha g; the natural-gradient step divides it by beta + ||g||^2",
                lambda z, G, D, a, b: step(
                    z, G, D, a, b, lambda g, b: torch.ones_like(g[:, :1])
                ),
            ),
            (
                "the damping beta is missing: without it the step blows up where g is small",
                lambda z, G, D, a, b: step(
                    z, G, D, a, b, lambda g, b: g.pow(2).sum(1, keepdim=True)
                ),
            ),
            (
                "z' leaves the prior's support: clip it to [-1, 1] after the step",
                lambda z, G, D, a, b: (
                    z
                    + a
                    * _grad(z, G, D)
                    / (b + _grad(z, G, D).pow(2).sum(1, keepdim=True))
                ),
            ),
        ],
    )
