"""Sampling, latent walks and inversion of GLO.

Book: {eq}`glo-gaussian-fit`, {eq}`glo-interpolation`, {eq}`glo-arithmetic`, {eq}`glo-principal`,
{eq}`glo-inversion`.
"""

import numpy as np
import pytest
import torch
from torch import nn

from glo_teach import DCGANGenerator
from glo_teach.glo import (
    LatentCodes,
    arithmetic,
    fit_diagonal_gaussian,
    fit_gaussian,
    interpolate,
    invert,
    principal_directions,
    project_to_ball,
    sample,
    traversal,
)
from glo_teach.metrics import psnr


def _codes(n=300, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, d, generator=g) * torch.tensor([0.5, 0.3, 0.2, 0.1, 0.05])[:d]
    ) @ torch.linalg.qr(torch.randn(d, d, generator=g))[0] + 0.1


def _calibrated_generator(d=8, seed=0):
    """A small random DCGAN generator whose BatchNorm statistics are set from one batch, so its
    eval-mode outputs vary with z (a fresh one outputs almost nothing)."""
    torch.manual_seed(seed)
    g = DCGANGenerator(latent_dim=d, channels=1, size=32, width=8)
    g.net[-2].weight.data *= 10  # output layer: images spread over [-1, 1]
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = (
                None  # cumulative average: one batch sets the running statistics
            )
    with torch.no_grad():
        g(project_to_ball(torch.randn(256, d)))
    return g.eval()


def test_fit_gaussian_is_the_ml_estimate():
    """glo-gaussian-fit: mu = mean, Sigma = (1/n) sum (z - mu)(z - mu)^T + jitter I (oracle: numpy)."""
    z = _codes()
    gauss = fit_gaussian(z, jitter=1e-5)
    zn = z.double().numpy()
    assert np.allclose(gauss.mean.numpy(), zn.mean(0), atol=1e-6)
    assert np.allclose(
        gauss.covariance_matrix.numpy(),
        np.cov(zn, rowvar=False, bias=True) + 1e-5 * np.eye(5),
        atol=1e-6,
    )
    assert fit_gaussian(LatentCodes(10, 3)).mean.shape == (3,)


def test_fit_diagonal_gaussian_keeps_the_variances_and_drops_the_correlations():
    """gauss-samplers: mu = mean, s_j^2 = (1/n) sum_i (z_ij - mu_j)^2 + jitter, off-diagonal 0 (oracle: numpy)."""
    z = _codes()  # rotated axes: strongly correlated coordinates
    diag = fit_diagonal_gaussian(z, jitter=1e-5)
    zn = z.double().numpy()
    cov = np.cov(zn, rowvar=False, bias=True)
    assert (
        np.abs(cov - np.diag(np.diag(cov))).max() > 0.01
    )  # the oracle case has correlations to drop
    assert np.allclose(diag.mean.numpy(), zn.mean(0), atol=1e-6)
    assert np.allclose(
        diag.covariance_matrix.numpy(), np.diag(np.var(zn, axis=0) + 1e-5), atol=1e-6
    )
    # the same diagonal as the full fit, and a sample() input
    assert torch.allclose(
        diag.covariance_matrix.diagonal(),
        fit_gaussian(z).covariance_matrix.diagonal(),
        atol=1e-6,
    )
    assert sample(_calibrated_generator(d=5), diag, 3).shape == (3, 1, 32, 32)
    with pytest.raises(ValueError, match="at least 2 codes"):
        fit_diagonal_gaussian(z[:1])
    with pytest.raises(ValueError, match="jitter"):
        fit_diagonal_gaussian(z, jitter=-1.0)


def test_samples_follow_the_fit():
    """glo-gaussian-fit: 20,000 samples of the fit have the fitted mean and covariance (Monte Carlo)."""
    z = _codes()
    gauss = fit_gaussian(z)
    torch.manual_seed(0)
    s = gauss.sample((20_000,)).double()
    assert (s.mean(0) - gauss.mean.double()).abs().max() < 0.02
    assert (torch.cov(s.T) - gauss.covariance_matrix.double()).abs().max() < 0.01
    g = _calibrated_generator(d=5)
    x = sample(g, gauss, 6)
    assert x.shape == (6, 1, 32, 32) and torch.isfinite(x).all()


def test_interpolation_is_linear_with_endpoints():
    """glo-interpolation: z(0) = z_a, z(1) = z_b, constant increments; batched shape (steps, N, d)."""
    za, zb = torch.randn(4), torch.randn(4)
    path = interpolate(za, zb, 5)
    assert path.shape == (5, 4)
    assert torch.equal(path[0], za) and torch.allclose(path[-1], zb, atol=1e-7)
    assert torch.allclose(path[2], (za + zb) / 2, atol=1e-6)
    assert torch.allclose(path.diff(n=2, dim=0), torch.zeros(3, 4), atol=1e-6)
    za3, zb3 = (
        torch.randn(3, 4, dtype=torch.float64),
        torch.randn(3, 4, dtype=torch.float64),
    )
    batched = interpolate(za3, zb3, 7)
    assert batched.shape == (7, 3, 4)
    for step in range(
        7
    ):  # hand values: z(t) = (1 - t) z_a + t z_b, t = step / 6, for every row
        t = step / 6
        torch.testing.assert_close(
            batched[step], (1 - t) * za3 + t * zb3, rtol=1e-12, atol=1e-12
        )
    torch.testing.assert_close(
        batched[3], (za3 + zb3) / 2, rtol=1e-12, atol=1e-12
    )  # the midpoint
    with pytest.raises(ValueError, match="steps"):
        interpolate(za, zb, 1)


def test_arithmetic_hand_computed():
    """glo-arithmetic: mean(a) - mean(b) + mean(c)."""
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    b = torch.tensor([[0.0, 1.0]])
    c = torch.tensor([[0.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    assert torch.allclose(arithmetic(a, b, c), torch.tensor([3.0, 0.0]))
    with pytest.raises(ValueError, match="latent dimension"):
        arithmetic(a, b, torch.zeros(1, 3))


def test_principal_directions_match_the_covariance_eigenvectors():
    """glo-principal: rows of U are eigenvectors of the code covariance, sigma^2 its eigenvalues (numpy eigh)."""
    z = _codes()
    mu, u, sigma = principal_directions(z, 3)
    evals, evecs = np.linalg.eigh(np.cov(z.double().numpy(), rowvar=False, bias=True))
    assert np.allclose(sigma.double().numpy() ** 2, evals[::-1][:3], rtol=1e-4)
    dots = np.abs(np.sum(u.double().numpy() * evecs[:, ::-1][:, :3].T, axis=1))
    assert np.allclose(dots, 1.0, atol=1e-4)
    assert torch.allclose(mu, z.mean(0), atol=1e-6)


def test_traversal_shape_and_mean_image_in_the_middle():
    """glo-principal: Fig. 6 grid (k, n_steps, C, H, W); the middle column is g(mean code)."""
    codes = _codes(d=5)
    g = _calibrated_generator(d=5)
    grid = traversal(g, codes, k=2, n_steps=5, scale=2.0)
    assert grid.shape == (2, 5, 1, 32, 32)
    with torch.no_grad():
        centre = g(codes.mean(0, keepdim=True))
    assert torch.allclose(grid[0, 2], centre[0], atol=1e-5) and torch.allclose(
        grid[1, 2], centre[0], atol=1e-5
    )
    assert (grid[0, 0] - grid[0, -1]).abs().max() > 1e-3
    mu, u, sigma = principal_directions(
        codes, 2
    )  # every cell: g(mu + s sigma_j u_j), s = -2, -1, 0, 1, 2
    for j in range(2):
        for col, step in enumerate((-2.0, -1.0, 0.0, 1.0, 2.0)):
            with torch.no_grad():
                want = g((mu + step * sigma[j] * u[j]).float()[None])[0]
            torch.testing.assert_close(grid[j, col], want, rtol=1e-4, atol=1e-5)


def test_traversal_from_a_training_code_walks_the_same_directions():
    """glo-principal with z_0 = a given code: every cell is g(z_0 + s sigma_j u_j), the middle column g(z_0);
    a start of the wrong shape is refused, naming the shape expected."""
    codes = _codes(d=5)
    g = _calibrated_generator(d=5)
    z0 = codes[3]
    grid = traversal(g, codes, k=2, n_steps=3, scale=1.5, start=z0)
    mu, u, sigma = principal_directions(codes, 2)
    for j in range(2):
        for col, step in enumerate((-1.5, 0.0, 1.5)):
            with torch.no_grad():
                want = g((z0 + step * sigma[j] * u[j]).float()[None])[0]
            torch.testing.assert_close(grid[j, col], want, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        assert not torch.allclose(
            grid[0, 1], g(mu.float()[None])[0], atol=1e-3
        )  # not the mean code's image
    with pytest.raises(
        ValueError, match=r"start must be one code of shape \(5,\), got \(1, 5\)"
    ):
        traversal(g, codes, k=2, start=z0[None])


def test_invert_recovers_the_code_of_a_generated_image():
    """glo-inversion: the paper's sanity check, pSNR > 50 on the generator's own outputs (vs < 40 before)."""
    g = _calibrated_generator()
    z_true = (
        project_to_ball(torch.randn(4, 8, generator=torch.Generator().manual_seed(1)))
        * 0.8
    )
    with torch.no_grad():
        x = g(z_true)
        z_start = project_to_ball(
            torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
        )
        assert psnr(g(z_start), x) < 40  # the check below is not trivial
    z = invert(g, x, steps=120, lr=0.1, seed=0)
    with torch.no_grad():
        assert psnr(g(z), x) > 50
    assert (z - z_true).norm(dim=1).max() < 1e-2
    assert (z.norm(dim=1) <= 1 + 1e-6).all()
    assert not g.training and all(p.requires_grad for p in g.parameters())


def test_invert_with_lap1_and_validation():
    """glo-inversion with the Lap1 loss lowers the loss; bad arguments raise."""
    g = _calibrated_generator()
    with torch.no_grad():
        x = g(
            project_to_ball(
                torch.randn(4, 8, generator=torch.Generator().manual_seed(2))
            )
        )
    z0 = project_to_ball(torch.randn(4, 8, generator=torch.Generator().manual_seed(3)))
    z = invert(g, x, loss="lap1", steps=60, lr=0.1, init=z0)
    with torch.no_grad():
        assert psnr(g(z), x) > psnr(g(z0), x) + 5
    with pytest.raises(ValueError, match="projection"):
        invert(g, x, projection="cube")
    with pytest.raises(ValueError, match="one code per image"):
        invert(g, x, init=torch.zeros(3, 8))
