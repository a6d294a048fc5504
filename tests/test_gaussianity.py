"""Gaussianity of codes: Mardia's statistics, principal-direction tests, GMM by EM, support and copy checks."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from glo_teach.glo import (
    fit_gmm,
    interpolation_off_support,
    mardia_skewness_kurtosis,
    nearest_distances,
    nearest_neighbour_copies,
    principal_normality,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_mardia_in_one_dimension_is_skewness_and_kurtosis():
    """Eq. gauss-mardia with d = 1: b_1 = g_1^2 and b_2 = the (non-excess) kurtosis, both biased, as scipy computes them."""
    x = torch.randn(500, 1, generator=_gen(), dtype=torch.float64).exp()
    m = mardia_skewness_kurtosis(x)
    assert abs(m["b1"] - scipy.stats.skew(x[:, 0].numpy()) ** 2) < 1e-8
    assert abs(m["b2"] - scipy.stats.kurtosis(x[:, 0].numpy(), fisher=False)) < 1e-8
    assert m["skew_dof"] == 1


def test_mardia_matches_the_pairwise_definition():
    """b_1 = (1/n^2) sum_ij m_ij^3 and b_2 = (1/n) sum_i m_ii^2 with m_ij = (z_i-mu)^T S^-1 (z_j-mu), computed
    by brute force on 60 codes in R^4 (eq. gauss-mardia); and the tests' statistics from their formulas."""
    z = torch.rand(60, 4, generator=_gen(1), dtype=torch.float64)
    zc = z - z.mean(0)
    m_ij = zc @ torch.linalg.inv(zc.T @ zc / 60) @ zc.T
    m = mardia_skewness_kurtosis(z)
    assert abs(m["b1"] - (m_ij**3).sum().item() / 60**2) < 1e-9
    assert abs(m["b2"] - (m_ij.diagonal() ** 2).mean().item()) < 1e-9
    assert abs(m["skew_stat"] - 60 * m["b1"] / 6) < 1e-9 and m["skew_dof"] == 20
    assert abs(m["kurt_stat"] - (m["b2"] - 24) / math.sqrt(8 * 24 / 60)) < 1e-9
    assert abs(m["skew_p"] - scipy.stats.chi2.sf(m["skew_stat"], 20)) < 1e-12


def test_mardia_p_values_gaussian_vs_skewed():
    """A Gaussian sample (n = 2000, d = 5, with correlations) is not rejected (p > 0.01), a log-normal one is (p < 1e-6)."""
    A = torch.randn(5, 5, generator=_gen(2), dtype=torch.float64)
    gauss = torch.randn(2000, 5, generator=_gen(3), dtype=torch.float64) @ A
    m = mardia_skewness_kurtosis(gauss)
    assert m["skew_p"] > 0.01 and m["kurt_p"] > 0.01
    m = mardia_skewness_kurtosis(gauss.exp())
    assert m["skew_p"] < 1e-6 and m["kurt_p"] < 1e-6


def test_principal_normality_finds_the_non_gaussian_direction():
    """Codes that are Gaussian except for a uniform top direction: the test rejects direction 1 (p < 1e-6) only."""
    z = torch.randn(3000, 3, generator=_gen(4), dtype=torch.float64) * torch.tensor(
        [1.0, 0.5, 0.3], dtype=torch.float64
    )
    z[:, 0] = (torch.rand(3000, generator=_gen(5), dtype=torch.float64) * 2 - 1) * 3
    p = principal_normality(z, 3)
    assert p.shape == (3,) and p[0] < 1e-6 and (p[1:] > 1e-3).all()


def test_gmm_recovers_two_separated_clusters():
    """EM (eq. gauss-gmm) on two clusters 10 std apart (weights 0.3 / 0.7): means within 0.1, weights within 0.05,
    and a log-likelihood far above the single Gaussian's."""
    g = _gen(6)
    a = torch.randn(300, 2, generator=g, dtype=torch.float64) + torch.tensor(
        [-5.0, 0.0], dtype=torch.float64
    )
    b = torch.randn(700, 2, generator=g, dtype=torch.float64) * 0.5 + torch.tensor(
        [5.0, 2.0], dtype=torch.float64
    )
    z = torch.cat([a, b])
    gmm = fit_gmm(z, 2, iters=50)
    means = gmm.component_distribution.mean
    order = means[:, 0].argsort()
    assert torch.allclose(
        means[order],
        torch.tensor([[-5.0, 0.0], [5.0, 2.0]], dtype=torch.float64),
        atol=0.1,
    )
    assert torch.allclose(
        gmm.mixture_distribution.probs[order],
        torch.tensor([0.3, 0.7], dtype=torch.float64),
        atol=0.05,
    )
    one = fit_gmm(z, 1, iters=1)
    assert gmm.log_prob(z).mean() - one.log_prob(z).mean() > 1.0
    assert gmm.sample((10,)).shape == (10, 2)


def test_gmm_with_one_component_is_the_ml_gaussian():
    """k = 1: mu = mean, Sigma = (1/n) sum (z - mu)(z - mu)^T + jitter I, as numpy computes them."""
    z = torch.randn(200, 3, generator=_gen(7), dtype=torch.float64)
    gmm = fit_gmm(z, 1, iters=3, jitter=0.0)
    assert np.allclose(
        gmm.component_distribution.mean[0].numpy(), z.numpy().mean(0), atol=1e-12
    )
    assert np.allclose(
        gmm.component_distribution.covariance_matrix[0].numpy(),
        np.cov(z.numpy().T, bias=True),
        atol=1e-12,
    )


def test_nearest_distances_against_brute_force():
    """min_j ||q_i - r_j|| by a double loop; exclude_self skips the point itself."""
    q = torch.randn(7, 3, generator=_gen(8), dtype=torch.float64)
    r = torch.randn(5, 3, generator=_gen(9), dtype=torch.float64)
    brute = torch.tensor(
        [min((qi - rj).norm().item() for rj in r) for qi in q], dtype=torch.float64
    )
    assert torch.allclose(nearest_distances(q, r, chunk=3), brute, atol=1e-12)
    self_nn = torch.tensor(
        [
            min((q[i] - q[j]).norm().item() for j in range(7) if j != i)
            for i in range(7)
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(
        nearest_distances(q, q, exclude_self=True, chunk=2), self_nn, atol=1e-12
    )


def test_interpolation_between_two_clusters_leaves_the_support():
    """Eq. gauss-off-support: paths between two tight clusters 10 apart cross empty space (most points off),
    paths inside one cluster stay on it (< 5% off, the threshold being a 95th percentile)."""
    g = _gen(10)
    a = torch.randn(200, 2, generator=g) * 0.1
    b = torch.randn(200, 2, generator=g) * 0.1 + torch.tensor([10.0, 0.0])
    codes = torch.cat([a, b])
    across = interpolation_off_support(codes, a[:20], b[:20], steps=12)
    inside = interpolation_off_support(codes, a[:20], a[20:40], steps=12)
    assert across > 0.7 and inside < 0.05
    with pytest.raises(ValueError, match="steps"):
        interpolation_off_support(codes, a[:2], b[:2], steps=2)


def test_off_support_in_high_dimension_sees_a_gap_but_not_the_middle_of_a_shell():
    """Eq. gauss-off-support in d = 32 (chapter 11's toy): two clusters of radius r (std r / sqrt(d) per coordinate)
    with centres 4 r apart leave a hole that every path across it enters, and paths inside one cluster never leave;
    but the empty middle of one Gaussian shell is no hole for this rule: in high dimension a path's midpoint is
    closer to the samples than they are to their nearest neighbours, so a fresh Gaussian's paths score 0."""
    g, d, r = _gen(11), 32, 0.2
    a = torch.randn(500, d, generator=g) * r / d**0.5
    b = torch.randn(500, d, generator=g) * r / d**0.5
    b[:, 0] += 4 * r
    codes = torch.cat([a, b])
    across = interpolation_off_support(codes, a[:50], b[:50], steps=16)
    inside = interpolation_off_support(codes, a[:50], a[50:100], steps=16)
    assert across > 0.3 and inside == 0.0
    shell = torch.randn(1000, d, generator=g)
    assert (
        interpolation_off_support(shell, shell[:100], shell[100:200], steps=16) < 0.01
    )


def test_nearest_neighbour_copies_detects_a_copy():
    """A training image itself has distance 0, a perturbed one has exactly ||noise||."""
    train = torch.rand(10, 1, 4, 4, generator=_gen(11), dtype=torch.float64) * 2 - 1
    noise = torch.zeros_like(train[:2])
    noise[1, 0, 0, 0] = 1e-3
    d = nearest_neighbour_copies(train[:2] + noise, train)
    assert d[0].item() == 0.0 and abs(d[1].item() - 1e-3) < 1e-12


def test_component_log_density_matches_torch():
    """The EM's per-component log N(x; mu_c, Sigma_c) equals torch's MultivariateNormal.log_prob."""
    from torch.distributions import MultivariateNormal

    from glo_teach.glo.gaussianity import _gaussian_log_prob

    x = torch.randn(50, 4, generator=_gen(12), dtype=torch.float64)
    mu = torch.randn(3, 4, generator=_gen(13), dtype=torch.float64)
    A = torch.randn(3, 4, 4, generator=_gen(14), dtype=torch.float64)
    sigma = A @ A.transpose(1, 2) + torch.eye(4, dtype=torch.float64)
    expected = MultivariateNormal(mu, covariance_matrix=sigma).log_prob(
        x[:, None]
    )  # (50, 3)
    assert torch.allclose(
        _gaussian_log_prob(x, mu, sigma), expected, atol=1e-10, rtol=0
    )
