"""Sampling from GLO: fit one full-covariance Gaussian to the learned codes, decode its samples.

GLO learns codes, not a prior; to generate, the paper (Sec. 4.3) fits a single Gaussian
N(mu, Sigma) to the codes {z_i} by maximum likelihood and passes its samples through g.
:func:`fit_diagonal_gaussian` keeps only the variances (Sigma's diagonal): the control that
says whether the codes' correlations matter for sampling (chapter 11).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import MultivariateNormal

from .._validate import check_positive_int
from ..nets import eval_mode
from .codes import LatentCodes, code_matrix

__all__ = ["fit_gaussian", "fit_diagonal_gaussian", "sample", "JITTER"]

JITTER = 1e-5  # added to the diagonal of Sigma: codes on a sphere or a flat set give a singular Sigma


def _centred(
    codes: LatentCodes | torch.Tensor, jitter: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(z (n, d), mu (d,) float64, z - mu (n, d) float64) of at least 2 codes; jitter checked >= 0."""
    z = code_matrix(codes)
    if len(z) < 2:
        raise ValueError(f"fitting a Gaussian needs at least 2 codes, got {len(z)}")
    if not jitter >= 0:
        raise ValueError(f"jitter must be >= 0, got {jitter}")
    mu = z.double().mean(0)
    return z, mu, z.double() - mu


def fit_gaussian(
    codes: LatentCodes | torch.Tensor, jitter: float = JITTER
) -> MultivariateNormal:
    """N(mu, Sigma + jitter I) with mu = (1/n) sum_i z_i, Sigma = (1/n) sum_i (z_i - mu)(z_i - mu)^T.

    The maximum-likelihood full covariance (divisor n), computed in float64, plus ``jitter`` on the
    diagonal so that the Cholesky factor exists even when the codes span fewer than d directions.
    Book: {eq}`glo-gaussian-fit`.
    """
    z, mu, zc = _centred(codes, jitter)
    cov = zc.T @ zc / len(z) + jitter * torch.eye(
        z.shape[1], dtype=torch.float64, device=z.device
    )
    return MultivariateNormal(mu.to(z.dtype), covariance_matrix=cov.to(z.dtype))


def fit_diagonal_gaussian(
    codes: LatentCodes | torch.Tensor, jitter: float = JITTER
) -> MultivariateNormal:
    """N(mu, diag(s_1^2, ..., s_d^2) + jitter I) with mu = (1/n) sum_i z_i, s_j^2 = (1/n) sum_i (z_ij - mu_j)^2.

    The maximum-likelihood Gaussian with independent coordinates: the same mean and per-coordinate
    variances as :func:`fit_gaussian` (the diagonal of its Sigma), every correlation set to 0.
    Computed in float64; returned as a ``MultivariateNormal`` so that :func:`sample` takes it.
    Book: {eq}`gauss-samplers`.
    """
    z, mu, zc = _centred(codes, jitter)
    var = zc.pow(2).mean(0) + jitter  # (d,), divisor n
    return MultivariateNormal(
        mu.to(z.dtype), covariance_matrix=torch.diag(var).to(z.dtype)
    )


@torch.no_grad()
def sample(generator: nn.Module, gaussian: MultivariateNormal, n: int) -> torch.Tensor:
    """g(z_k) for z_k ~ ``gaussian``, k = 1..n, with the generator in eval mode; (n, C, H, W).

    Uses the global torch RNG (seed it for reproducible samples). Book: {eq}`glo-gaussian-fit`.
    """
    check_positive_int(n, "n")
    if not isinstance(gaussian, MultivariateNormal):
        raise TypeError(
            f"gaussian must be a torch MultivariateNormal (from fit_gaussian), got {type(gaussian).__name__}"
        )
    with eval_mode(generator):
        return generator(gaussian.sample((n,)))  # (n, d) -> (n, C, H, W)
