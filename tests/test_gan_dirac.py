"""The Dirac GAN (Mescheder et al. 2018): gradient play circles or diverges; R1 makes it converge."""

import math

import pytest
import torch

from glo_teach.gan import (
    dirac_trajectory,
    dirac_value,
    dirac_vector_field,
    minimax_value,
)


def _jacobian_at_equilibrium(gamma: float) -> torch.Tensor:
    """d v / d (theta, psi) at (0, 0) by autograd, shape (2, 2)."""
    field = lambda p: torch.stack(dirac_vector_field(p[0], p[1], gamma))  # noqa: E731  (2,) -> (2,)
    return torch.autograd.functional.jacobian(
        field, torch.zeros(2, dtype=torch.float64)
    )


def test_dirac_value_is_the_minimax_value_of_the_game():
    """dirac-gan: V(theta, psi) = log sigmoid(psi * 0) + log(1 - sigmoid(psi theta)), i.e. gan-value-empirical
    with D's logits psi * x at the data point x = 0 and the generated point x = theta."""
    for theta, psi in [(1.0, 1.0), (-0.7, 2.5), (3.0, -0.2)]:
        v = minimax_value(
            torch.tensor([psi * 0.0], dtype=torch.float64),
            torch.tensor([psi * theta], dtype=torch.float64),
        )
        assert abs(dirac_value(theta, psi).item() - v.item()) < 1e-12


def test_dirac_vector_field_matches_autograd():
    """dirac-field: v = (-dV/dtheta, dV/dpsi - gamma psi), the closed form against torch.autograd."""
    for theta0, psi0, gamma in [(1.0, 1.0, 0.0), (-0.4, 2.0, 0.0), (0.8, -1.5, 0.7)]:
        theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        psi = torch.tensor(psi0, dtype=torch.float64, requires_grad=True)
        d_theta, d_psi = torch.autograd.grad(
            dirac_value(theta, psi) - 0.5 * gamma * psi**2, (theta, psi)
        )
        v_theta, v_psi = dirac_vector_field(theta0, psi0, gamma)
        assert (
            abs(v_theta.item() + d_theta.item()) < 1e-12
            and abs(v_psi.item() - d_psi.item()) < 1e-12
        )


def test_unregularised_field_is_a_rotation():
    """dirac-field with gamma = 0: (theta, psi) . v = 0, so the continuous flow keeps the radius, and at
    the equilibrium the Jacobian [[0, 1/2], [-1/2, 0]] has purely imaginary eigenvalues +-i/2."""
    g = torch.Generator().manual_seed(0)
    theta, psi = (
        3 * torch.randn(100, generator=g, dtype=torch.float64),
        3 * torch.randn(100, generator=g, dtype=torch.float64),
    )
    v_theta, v_psi = dirac_vector_field(theta, psi)
    assert (theta * v_theta + psi * v_psi).abs().max().item() < 1e-12
    jac = _jacobian_at_equilibrium(gamma=0.0)
    eig = torch.linalg.eigvals(jac)
    assert (
        eig.real.abs().max().item() < 1e-12
        and (eig.imag.abs() - 0.5).abs().max().item() < 1e-12
    )


def test_simultaneous_steps_spiral_outwards():
    """dirac-steps: simultaneous gradient steps grow the radius at every step,
    r_{k+1}^2 = r_k^2 (1 + h^2 sigmoid(psi_k theta_k)^2) exactly; after 2000 steps r has more than doubled."""
    h = 0.1
    path = dirac_trajectory(1.0, 1.0, lr=h, n_steps=2000, mode="simultaneous")
    r2 = (path**2).sum(1)
    s = torch.sigmoid(path[:-1, 0] * path[:-1, 1])
    assert (r2[1:] / r2[:-1] - (1 + h**2 * s**2)).abs().max().item() < 1e-12
    assert (r2.diff() > 0).all()
    assert r2[-1].sqrt().item() > 2 * math.sqrt(2), (
        f"final radius {r2[-1].sqrt().item():.3f}"
    )


def test_alternating_steps_keep_circling():
    """dirac-steps: alternating steps neither converge nor diverge: the radius stays within 10% of its start."""
    r = dirac_trajectory(1.0, 1.0, lr=0.1, n_steps=2000, mode="alternating").norm(dim=1)
    assert r.min().item() > 0.9 * math.sqrt(2) and r.max().item() < 1.1 * math.sqrt(2)


@pytest.mark.parametrize("mode", ["simultaneous", "alternating"])
def test_r1_penalty_converges_to_the_equilibrium(mode):
    """dirac-r1: with the R1 penalty (gamma = 1) both kinds of steps converge to (theta, psi) = (0, 0),
    and the Jacobian at (0, 0) has eigenvalues with negative real part."""
    path = dirac_trajectory(1.0, 1.0, lr=0.1, n_steps=1000, mode=mode, gamma=1.0)
    assert path[-1].norm().item() < 1e-6, path[-1]
    jac = _jacobian_at_equilibrium(gamma=1.0)
    assert torch.linalg.eigvals(jac).real.max().item() < -0.1


def test_dirac_trajectory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        dirac_trajectory(mode="sequential")
    with pytest.raises(ValueError, match="lr"):
        dirac_trajectory(lr=0.0)


def _jacobian_at(point, **reg) -> torch.Tensor:
    field = lambda p: torch.stack(dirac_vector_field(p[0], p[1], **reg))  # noqa: E731
    return torch.autograd.functional.jacobian(
        field, torch.as_tensor(point, dtype=torch.float64)
    )


@pytest.mark.parametrize("gamma", [0.3, 1.0, 3.0])
def test_r1_eigenvalues_match_the_closed_form(gamma):
    """dirac-r1: the autograd Jacobian at (0, 0) has eigenvalues (-gamma +- sqrt(gamma^2 - 1)) / 2."""
    eig = torch.linalg.eigvals(_jacobian_at_equilibrium(gamma))
    root = torch.sqrt(torch.tensor(gamma**2 - 1.0, dtype=torch.complex128))
    expected = torch.stack([(-gamma + root) / 2, (-gamma - root) / 2])
    key = lambda z: sorted(z.tolist(), key=lambda c: (c.real, c.imag))  # noqa: E731
    assert all(abs(a - b) < 1e-10 for a, b in zip(key(eig), key(expected)))


def test_instance_noise_field_is_the_gradient_of_the_noisy_value():
    """dirac-instance-noise: the quadrature field equals -/+ the autograd gradient of a Monte-Carlo-free
    oracle, the noisy value computed on a fine grid (trapezoid rule over eps with the N(0, sigma^2) density)."""
    sigma = 0.8
    eps = torch.linspace(-10 * sigma, 10 * sigma, 20001, dtype=torch.float64)
    dens = torch.exp(-0.5 * (eps / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    logsig = torch.nn.functional.logsigmoid
    for theta0, psi0 in [(1.0, 1.0), (-0.5, 2.0), (0.3, -1.2)]:
        theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        psi = torch.tensor(psi0, dtype=torch.float64, requires_grad=True)
        value = torch.trapezoid(
            dens * (logsig(psi * eps) + logsig(-psi * (theta + eps))), eps
        )
        d_theta, d_psi = torch.autograd.grad(value, (theta, psi))
        v_theta, v_psi = dirac_vector_field(theta0, psi0, noise_std=sigma)
        assert (
            abs(v_theta.item() + d_theta.item()) < 1e-8
            and abs(v_psi.item() - d_psi.item()) < 1e-8
        )


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_instance_noise_converges_locally(sigma):
    """dirac-instance-noise: Jacobian at (0, 0) = [[0, 1/2], [-1/2, -sigma^2/2]] (Mescheder et al. 2018,
    Lemma 3.3 with f'(0) = 1/2, f''(0) = -1/4), eigenvalues -sigma^2/4 +- sqrt(sigma^4/16 - 1/4), and
    both kinds of steps converge."""
    jac = _jacobian_at([0.0, 0.0], noise_std=sigma)
    assert (
        jac - torch.tensor([[0.0, 0.5], [-0.5, -(sigma**2) / 2]], dtype=torch.float64)
    ).abs().max().item() < 1e-10
    assert torch.linalg.eigvals(jac).real.max().item() < 0
    for mode in ("simultaneous", "alternating"):
        assert (
            dirac_trajectory(
                1.0, 1.0, lr=0.1, n_steps=3000, mode=mode, noise_std=sigma
            )[-1]
            .norm()
            .item()
            < 1e-3
        )


@pytest.mark.parametrize("lam", [0.5, 1.0])
def test_one_centred_penalty_does_not_converge(lam):
    """dirac-gp1: the one-centred penalty lam (|psi| - 1)^2 (WGAN-GP) adds -2 lam (|psi| - 1) sign(psi)
    to v_psi (checked against autograd), so at (0, +-eps) the field is v_psi = +-2 lam (1 - eps), pointing
    away from psi = 0 on both sides: (0, 0) is not attracting. The iterates, from far or from next to
    the equilibrium, stay away from it (distance > lam over the last 300 of 2000 steps)."""
    for theta0, psi0 in [(0.7, 1.3), (-0.4, -0.6)]:
        psi = torch.tensor(psi0, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(lam * (psi.abs() - 1) ** 2, psi)
        v_psi_pen = (
            dirac_vector_field(theta0, psi0, gp1_weight=lam)[1]
            - dirac_vector_field(theta0, psi0)[1]
        )
        assert abs(v_psi_pen.item() + g.item()) < 1e-12
    e = 1e-6
    for sign in (1, -1):
        assert (
            abs(
                dirac_vector_field(0.0, sign * e, gp1_weight=lam)[1].item()
                - sign * 2 * lam * (1 - e)
            )
            < 1e-12
        )
    for start in [(1.0, 1.0), (0.01, 0.01)]:
        for mode in ("simultaneous", "alternating"):
            r = dirac_trajectory(
                *start, lr=0.1, n_steps=2000, mode=mode, gp1_weight=lam
            ).norm(dim=1)
            assert r[-300:].min().item() > lam, (start, mode, r[-1].item())
