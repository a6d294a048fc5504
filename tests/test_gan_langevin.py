"""Langevin dynamics on an energy (book chapter 10, logan-langevin)."""

import math

import pytest
import torch

from glo_teach.gan import langevin


def test_without_noise_it_is_gradient_descent_in_closed_form():
    """noise=False on E(z) = c ||z||^2 / 2: grad E = c z, so z_t = (1 - eta c)^t z_0 exactly."""
    z0 = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    c, eta, t = 2.0, 0.1, 7
    z = langevin(z0, lambda z: 0.5 * c * (z**2).sum(1), eta, t, noise=False)
    assert torch.allclose(z, (1 - eta * c) ** t * z0, atol=1e-14, rtol=0)


def test_gaussian_energy_has_the_known_stationary_law():
    """logan-langevin on E(z) = (z - mu)^2 / (2 s^2): the chain z' = z - (eta/s^2)(z - mu) + sqrt(2 eta) xi
    is Gaussian with stationary mean mu and variance s^2 / (1 - eta / (2 s^2)) (the discretisation
    bias of the unadjusted algorithm; -> s^2 as eta -> 0). 20,000 chains, 150 steps."""
    mu, s, eta = 3.0, 1.0, 0.2
    g = torch.Generator().manual_seed(0)
    z = langevin(
        torch.zeros(20_000, 1, dtype=torch.float64),
        lambda z: ((z[:, 0] - mu) ** 2) / (2 * s**2),
        eta,
        150,
        generator=g,
    )
    var_exact = s**2 / (1 - eta / (2 * s**2))  # 1.111...
    se = var_exact * math.sqrt(2 / len(z))
    assert z.mean().item() == pytest.approx(mu, abs=4 * math.sqrt(var_exact / len(z)))
    assert z.var().item() == pytest.approx(var_exact, abs=4 * se)


def test_reproducible_detached_and_checked():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    z0 = torch.randn(5, 3, requires_grad=True)
    energy = lambda z: (z**4).sum(1)  # noqa: E731
    a, b = (
        langevin(z0, energy, 0.01, 5, generator=g1),
        langevin(z0, energy, 0.01, 5, generator=g2),
    )
    assert torch.equal(a, b) and not a.requires_grad
    assert torch.equal(langevin(z0, energy, 0.01, 0), z0.detach())
    with pytest.raises(ValueError, match="one value per code"):
        langevin(z0, lambda z: z.sum(), 0.01, 1)
    with pytest.raises(ValueError, match="step_size"):
        langevin(z0, energy, 0.0, 1)
    with pytest.raises(ValueError, match="steps"):
        langevin(z0, energy, 0.1, -1)
    with pytest.raises(ValueError, match="shape"):
        langevin(torch.zeros(3), energy, 0.1, 1)
