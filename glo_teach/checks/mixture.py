"""Check for chapter 1: the log-density of a 1-D Gaussian mixture, the marginal {eq}`lvm-marginal`
of a model with a discrete latent (the component k) and a Gaussian p(x | k).

``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed random
inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..data import GaussianMixture1D
from ._core import diagnose, expect_case, student_check

__all__ = ["check_mixture_log_density"]

F64 = torch.float64


def _reference(
    x: torch.Tensor, means: torch.Tensor, stds: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    return GaussianMixture1D(means, stds, weights).log_prob(x)


def _log_components(x, means, stds, weights, var=None, norm=True, scale=True):
    """(..., K): log w_k + log N(x; mu_k, sigma_k^2), with optional named mistakes."""
    s = stds if var is None else var
    comp = -0.5 * ((x[..., None] - means) / s) ** 2
    if scale:
        comp = comp - torch.log(s)
    if norm:
        comp = comp - 0.5 * math.log(2 * math.pi)
    return comp + torch.log(weights)


@student_check
def check_mixture_log_density(fn: Callable) -> str:
    """fn(x, means, stds, weights) must return log p(x) elementwise (shape of x), with
    p(x) = sum_k w_k N(x; mu_k, sigma_k^2), computed as logsumexp_k [log w_k + log N(x; mu_k, sigma_k^2)]
    so that it stays finite far from every mode. Compared with
    :meth:`glo_teach.data.GaussianMixture1D.log_prob`. Book: {eq}`lvm-marginal`."""
    g = torch.Generator().manual_seed(10)
    means, stds = (
        torch.tensor([-2.0, 1.5, 4.0], dtype=F64),
        torch.tensor([0.5, 0.8, 1.7], dtype=F64),
    )
    weights = torch.tensor([0.2, 0.5, 0.3], dtype=F64)
    cases = [
        (
            "x of shape (9,), 3 components",
            (3 * torch.randn(9, generator=g, dtype=F64), means, stds, weights),
        ),
        (
            "x of shape (4, 5), 2 components",
            (
                2 * torch.randn(4, 5, generator=g, dtype=F64),
                means[:2],
                stds[:2],
                torch.tensor([0.35, 0.65], dtype=F64),
            ),
        ),
    ]
    ok = diagnose(
        fn,
        _reference,
        cases,
        [
            (
                "the mixture weights are missing: each component's density must be multiplied by its weight w_k "
                "(add log w_k)",
                lambda x, m, s, w: torch.logsumexp(
                    _log_components(x, m, s, w) - torch.log(w), -1
                ),
            ),
            (
                "`stds` holds standard deviations sigma_k, not variances: you used them as sigma_k^2",
                lambda x, m, s, w: torch.logsumexp(
                    _log_components(x, m, s, w, var=s.sqrt()), -1
                ),
            ),
            (
                "the Gaussian's normaliser 1 / sqrt(2 pi) is missing",
                lambda x, m, s, w: torch.logsumexp(
                    _log_components(x, m, s, w, norm=False), -1
                ),
            ),
            (
                "the Gaussian's normaliser 1 / sigma_k is missing: it differs between components",
                lambda x, m, s, w: torch.logsumexp(
                    _log_components(x, m, s, w, scale=False), -1
                ),
            ),
            (
                "you add the log-densities of the components (a product of densities); the mixture is their weighted *sum*",
                lambda x, m, s, w: _log_components(x, m, s, w).sum(-1),
            ),
        ],
    )
    far = torch.tensor(
        [400.0, -600.0], dtype=F64
    )  # every exp(-(x - mu)^2 / 2 sigma^2) underflows
    expect_case(
        fn,
        _reference,
        (far, means, stds, weights),
        "-inf (or wrong) far from every mode: the log of a sum of exponentials that all round to 0 is log 0; "
        "combine log-weights and log-densities with torch.logsumexp",
    )
    return ok + ", and stays finite far from the modes"
