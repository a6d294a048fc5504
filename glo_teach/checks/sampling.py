"""Checks for sampling from GLO: the full-covariance Gaussian fit of the codes and drawing from it.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..glo.sampling import fit_gaussian
from ._core import StudentError, as_tensor, call, compare, student_check

__all__ = ["check_fit_gaussian", "check_gaussian_sampling"]

F64 = torch.float64


def _correlated_codes(g: torch.Generator, n: int, d: int) -> torch.Tensor:
    """n codes (n, d) with a non-zero mean and strongly correlated coordinates."""
    a = torch.randn(d, d, generator=g, dtype=F64)
    return torch.randn(n, d, generator=g, dtype=F64) @ a + torch.linspace(
        -1, 2, d, dtype=F64
    )


@student_check
def check_fit_gaussian(fn: Callable) -> str:
    """fn(z) must return (mu, Sigma): mu = (1/n) sum_i z_i (d,) and the maximum-likelihood covariance
    Sigma = (1/n) sum_i (z_i - mu)(z_i - mu)^T (d, d), divisor n, for codes z (n, d), no jitter.
    Compared with :func:`glo_teach.glo.fit_gaussian` (jitter 0). Book: {eq}`glo-gaussian-fit`."""
    g = torch.Generator().manual_seed(30)
    zs = [_correlated_codes(g, 12, 4), _correlated_codes(g, 30, 6)]
    outs, refs, labels = [], [], []
    for z in zs:
        out = call(fn, z)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise StudentError(
                f"should return a pair (mu, Sigma), got {type(out).__name__}"
            )
        ref = fit_gaussian(z, jitter=0.0)
        outs += [as_tensor(out[0], z), as_tensor(out[1], z)]
        refs += [ref.mean, ref.covariance_matrix]
        labels += [
            f"mu of {len(z)} codes of dimension {z.shape[1]}",
            f"Sigma of {len(z)} codes of dimension {z.shape[1]}",
        ]

    def wrong(cov_fn: Callable) -> list[torch.Tensor]:
        res = []
        for z in zs:
            res += [z.mean(0), cov_fn(z)]
        return res

    zc = lambda z: z - z.mean(0)  # noqa: E731
    return compare(
        outs,
        refs,
        labels,
        [
            (
                "the maximum-likelihood covariance divides by n; n - 1 is the unbiased estimator",
                wrong(lambda z: zc(z).T @ zc(z) / (len(z) - 1)),
            ),
            (
                "the codes must be centred: that is the second moment E[z z^T], not the covariance",
                wrong(lambda z: z.T @ z / len(z)),
            ),
            (
                "a full covariance keeps the off-diagonal terms: the coordinates of the codes are correlated",
                wrong(lambda z: torch.diag(zc(z).pow(2).mean(0))),
            ),
            (
                "the covariance is over the latent coordinates (d, d), summed over the codes: (z - mu)^T (z - mu), "
                "not (z - mu)(z - mu)^T",
                wrong(lambda z: zc(z) @ zc(z).T / len(z)),
            ),
        ],
    )


def _cov(x: torch.Tensor) -> torch.Tensor:
    xc = x - x.mean(0)
    return xc.T @ xc / len(x)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


@student_check
def check_gaussian_sampling(fn: Callable) -> str:
    """fn(mu, Sigma, n) must return n samples (n, d) of N(mu, Sigma) drawn with torch's global RNG:
    z_k = mu + L eps_k with L L^T = Sigma (the Cholesky factor) and eps_k ~ N(0, I_d).
    Judged on 20,000 samples: their mean and covariance must match mu and Sigma (relative error
    below 5%). Book: {eq}`glo-gaussian-fit`."""
    n = 20000
    mu = torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    a = torch.tensor([[1.5, 0.0, 0.0], [1.2, 0.6, 0.0], [-0.9, 0.4, 0.5]], dtype=F64)
    sigma = a @ a.T  # strongly correlated, eigenvalues far from 1
    x = as_tensor(call(fn, mu, sigma, n), mu)
    if tuple(x.shape) != (n, 3):
        raise StudentError(
            f"expected samples of shape ({n}, 3) for mu of shape (3,) and n = {n}, got {tuple(x.shape)}"
        )
    x = x.detach().double()
    if not torch.isfinite(x).all():
        raise StudentError(
            "the samples contain nan or inf: is Sigma's factor computed from Sigma itself?"
        )
    cov = _cov(x)
    if cov.abs().max() < 1e-10:
        raise StudentError(
            "all samples are equal: draw a fresh eps for every sample, eps of shape (n, d)"
        )
    L = torch.linalg.cholesky(sigma)
    mean_ok = (x.mean(0) - mu).norm().item() < 0.05 * mu.norm().item()
    for want, hint in [
        (
            sigma @ sigma,
            "Sigma itself was used as the scale: mu + Sigma eps has covariance Sigma^2; "
            "the scale is a square root of Sigma",
        ),
        (
            L.T @ L,
            "the factor is applied on the wrong side: with samples as rows, "
            "eps @ L has covariance L^T L, not L L^T = Sigma",
        ),
        (
            torch.diag(sigma.diagonal()),
            "the coordinates were sampled independently: a full covariance "
            "needs its off-diagonal terms (a matrix factor, not per-coordinate sigma_j)",
        ),
        (
            torch.eye(3, dtype=F64),
            "the noise is not scaled: the covariance of the samples is the identity",
        ),
    ]:
        if _rel(cov, want) < 0.05 and _rel(cov, sigma) >= 0.05:
            raise StudentError(hint)
    if _rel(cov, sigma) >= 0.05:
        raise StudentError(
            f"the samples' covariance is off by {100 * _rel(cov, sigma):.0f}% (relative): "
            "z = mu + L eps with L L^T = Sigma"
        )
    if not mean_ok:
        if x.mean(0).norm().item() < 0.05 * mu.norm().item():
            raise StudentError("the samples have mean 0: add mu")
        raise StudentError("the samples' mean is not mu")
    return f"{n} samples have mean mu and covariance Sigma within 5%"
