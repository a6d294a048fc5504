"""Is GLO's latent space Gaussian? Tests, a Gaussian-mixture alternative, and support checks.

GLO's codes start Gaussian (or as PCA coefficients) and are then moved freely (and projected onto the unit ball), so
nothing keeps them Gaussian. Sampling from one fitted Gaussian and interpolating linearly both
assume they are. This module measures the assumption:

- :func:`mardia_skewness_kurtosis`: Mardia's multivariate skewness b_1 and kurtosis b_2 with
  their asymptotic tests (chi^2 and normal);
- :func:`principal_normality`: a 1-D normality test along each principal direction;
- :func:`fit_gmm`: a full-covariance Gaussian mixture fitted by EM, the alternative sampler;
- :func:`interpolation_off_support`: the share of points of linear paths that lie far from
  every training code;
- :func:`nearest_distances` / :func:`nearest_neighbour_copies`: distances to the nearest
  training point (are samples copies of training images?).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from .._validate import check_images, check_positive_int
from .codes import LatentCodes, code_matrix
from .latent import interpolate, principal_directions

__all__ = [
    "mardia_skewness_kurtosis",
    "principal_normality",
    "fit_gmm",
    "nearest_distances",
    "interpolation_off_support",
    "nearest_neighbour_copies",
]


def mardia_skewness_kurtosis(codes: LatentCodes | torch.Tensor) -> dict[str, float]:
    """Mardia's b_1, b_2 of n codes z_i in R^d, with their test statistics and p-values.

    With mu the mean and S = (1/n) sum_i (z_i - mu)(z_i - mu)^T, m_ij = (z_i - mu)^T S^{-1} (z_j - mu):

        b_1 = (1/n^2) sum_{i,j} m_ij^3,   skew_stat = n b_1 / 6 ~ chi^2 with d(d+1)(d+2)/6 dof
        b_2 = (1/n) sum_i m_ii^2,         kurt_stat = (b_2 - d(d+2)) / sqrt(8 d(d+2) / n) ~ N(0, 1)

    under normality (n large). p-values: skew_p = P(chi^2 > skew_stat), kurt_p = 2 P(N > |kurt_stat|).
    Computed in float64 through whitened codes y_i = L^{-1}(z_i - mu) (S = L L^T), using
    b_1 = sum_{a,b,c} ((1/n) sum_i y_ia y_ib y_ic)^2, which never forms the n x n matrix.
    Book: {eq}`gauss-mardia`
    """
    z = code_matrix(codes).double().cpu()
    n, d = z.shape
    if n <= d:
        raise ValueError(
            f"Mardia's statistics need more codes than dimensions, got n={n}, d={d}"
        )
    zc = z - z.mean(0)  # (n, d)
    L = torch.linalg.cholesky(zc.T @ zc / n)  # (d, d)
    y = torch.linalg.solve_triangular(
        L, zc.T, upper=False
    ).T  # (n, d), whitened: (1/n) y^T y = I
    third = torch.einsum("ia,ib,ic->abc", y, y, y) / n  # (d, d, d)
    b1 = third.pow(2).sum().item()
    b2 = y.pow(2).sum(1).pow(2).mean().item()
    dof = d * (d + 1) * (d + 2) / 6
    skew_stat = n * b1 / 6
    kurt_stat = (b2 - d * (d + 2)) / math.sqrt(8 * d * (d + 2) / n)
    return {
        "b1": b1,
        "b2": b2,
        "skew_stat": skew_stat,
        "skew_dof": dof,
        "skew_p": float(scipy.stats.chi2.sf(skew_stat, dof)),
        "kurt_stat": kurt_stat,
        "kurt_p": float(2 * scipy.stats.norm.sf(abs(kurt_stat))),
    }


def principal_normality(codes: LatentCodes | torch.Tensor, k: int) -> np.ndarray:
    """p-values of D'Agostino-Pearson's test (``scipy.stats.normaltest``) of t_j = u_j^T (z - mu), j = 1..k.

    u_j are the top-k principal directions (:func:`~glo_teach.glo.principal_directions`); a
    Gaussian's projections are Gaussian along *every* direction, so small p-values along some
    u_j reject normality there. Shape (k,). Book: {eq}`gauss-direction`
    """
    z = code_matrix(codes).double().cpu()
    mu, u, _ = principal_directions(z, k)
    t = (z - mu) @ u.T  # (n, k) projections
    return scipy.stats.normaltest(t.numpy(), axis=0).pvalue


def _gaussian_log_prob(
    x: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor
) -> torch.Tensor:
    """log N(x_i; mu_c, Sigma_c) for x (n, d), mu (k, d), Sigma (k, d, d) -> (n, k), one Cholesky per component."""
    L = torch.linalg.cholesky(sigma)  # (k, d, d)
    diff = (x[None] - mu[:, None]).transpose(1, 2)  # (k, d, n)
    y = torch.linalg.solve_triangular(
        L, diff, upper=False
    )  # (k, d, n), ||y||^2 = Mahalanobis distance
    log_det = 2 * L.diagonal(dim1=1, dim2=2).log().sum(1)  # (k,)
    return (
        -0.5 * (y.pow(2).sum(1) + log_det[:, None] + x.shape[1] * math.log(2 * math.pi))
    ).T  # (n, k)


def fit_gmm(
    codes: LatentCodes | torch.Tensor,
    k: int,
    iters: int = 100,
    jitter: float = 1e-5,
    seed: int = 0,
) -> MixtureSameFamily:
    """A k-component full-covariance Gaussian mixture fitted to the codes by EM (float64).

    p(z) = sum_c pi_c N(z; mu_c, Sigma_c). Start: mu_c = k distinct random codes (from
    ``seed``), Sigma_c = the codes' covariance, pi_c = 1/k. E step: r_ic = pi_c N(z_i; mu_c,
    Sigma_c) / sum_c' (...), computed with log-sum-exp. M step: n_c = sum_i r_ic, pi_c = n_c / n,
    mu_c = sum_i r_ic z_i / n_c, Sigma_c = sum_i r_ic (z_i - mu_c)(z_i - mu_c)^T / n_c + jitter I.
    ``iters`` EM steps (each never decreases the log-likelihood). Returns a torch
    ``MixtureSameFamily`` with ``.sample`` and ``.log_prob``, in the codes' dtype.
    Book: {eq}`gauss-gmm`
    """
    z = code_matrix(codes)
    check_positive_int(k, "k")
    check_positive_int(iters, "iters")
    n, d = z.shape
    if k > n:
        raise ValueError(f"k must be at most the number of codes {n}, got {k}")
    x = z.double().cpu()  # (n, d)
    eye = torch.eye(d, dtype=torch.float64)
    xc = x - x.mean(0)
    mu = x[
        torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k]
    ].clone()  # (k, d)
    sigma = (xc.T @ xc / n + jitter * eye).expand(k, d, d).clone()  # (k, d, d)
    log_pi = torch.full((k,), -math.log(k), dtype=torch.float64)
    for _ in range(iters):
        log_p = _gaussian_log_prob(x, mu, sigma) + log_pi  # (n, k)
        r = (
            log_p - log_p.logsumexp(dim=1, keepdim=True)
        ).exp()  # (n, k) responsibilities
        n_c = r.sum(0).clamp_min(1e-10)  # (k,)
        log_pi = (n_c / n).log()
        mu = (r.T @ x) / n_c[:, None]  # (k, d)
        diff = x[None] - mu[:, None]  # (k, n, d)
        sigma = (r.T[:, :, None] * diff).transpose(1, 2) @ diff / n_c[
            :, None, None
        ] + jitter * eye  # (k, d, d)
    dt = z.dtype
    return MixtureSameFamily(
        Categorical(logits=log_pi.to(dt)),
        MultivariateNormal(mu.to(dt), covariance_matrix=sigma.to(dt)),
    )


def nearest_distances(
    queries: torch.Tensor,
    reference: torch.Tensor,
    exclude_self: bool = False,
    chunk: int = 1024,
) -> torch.Tensor:
    """delta_i = min_j ||q_i - r_j||_2 over the rows of ``reference`` (flattened), shape (N,), float64.

    ``exclude_self``: queries *are* the reference; skip j = i (the nearest *other* point).
    """
    q = queries.detach().reshape(len(queries), -1).double().cpu()
    r = reference.detach().reshape(len(reference), -1).double().cpu()
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"queries and reference must have the same size per item, got {q.shape[1]} and {r.shape[1]}"
        )
    out = []
    for start in range(0, len(q), chunk):
        dist = torch.cdist(q[start : start + chunk], r)  # (chunk, M)
        if exclude_self:
            rows = torch.arange(len(dist))
            dist[rows, rows + start] = math.inf
        out.append(dist.min(dim=1).values)
    return torch.cat(out)


def interpolation_off_support(
    codes: LatentCodes | torch.Tensor,
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    steps: int = 16,
    threshold: float | None = None,
) -> float:
    """(1/|P|) #{z in P : min_i ||z - z_i|| > threshold}, P the points of the linear paths z_a -> z_b.

    P = :func:`~glo_teach.glo.interpolate` (z_a, z_b, steps) without the endpoints (z_a, z_b of
    shape (d,) or (N, d)). ``threshold`` defaults to the 95th percentile of the codes'
    nearest-neighbour distances min_{j != i} ||z_i - z_j||: a path point counts as off the
    support when it is farther from every training code than 95% of the codes are from their
    nearest neighbour. Book: {eq}`gauss-off-support`
    """
    z = code_matrix(codes)
    if not isinstance(steps, int) or steps < 3:
        raise ValueError(
            f"steps must be an int >= 3 (the endpoints are left out), got {steps!r}"
        )
    if threshold is None:
        threshold = torch.quantile(
            nearest_distances(z, z, exclude_self=True), 0.95
        ).item()
    path = interpolate(z_a, z_b, steps)[1:-1]  # (steps - 2, [N,] d)
    d_path = nearest_distances(path.reshape(-1, z.shape[1]), z)
    return (d_path > threshold).double().mean().item()


def nearest_neighbour_copies(
    samples: torch.Tensor, train_images: torch.Tensor
) -> torch.Tensor:
    """delta_i = min_j ||x_i - x_j^train||_2 over pixels, shape (N,), float64: how far each sample is from
    the closest training image. A copy has delta ~ 0; compare with the same distances of test images.
    Book: {eq}`gauss-copies`
    """
    check_images(samples, "samples")
    check_images(train_images, "train_images")
    return nearest_distances(samples, train_images)
