"""The Dirac GAN (Mescheder, Geiger, Nowozin 2018): the smallest GAN that does not converge.

Data p_data = delta_0 (a point mass at 0), generator G_theta = delta_theta, discriminator
D_psi(x) = psi * x (a logit; D = sigmoid(psi x)). The game's value is

    V(theta, psi) = log sigmoid(psi * 0) + log(1 - sigmoid(psi theta)) = -log 2 + logsigmoid(-psi theta),

whose only equilibrium is (theta, psi) = (0, 0). Gradient descent for G and ascent for D follow
the vector field

    v(theta, psi) = (-dV/dtheta, dV/dpsi - gamma psi) = (psi s, -theta s - gamma psi),   s = sigmoid(psi theta),

where gamma psi is the gradient of the R1 penalty (gamma/2) E_{p_data} ||grad_x D_psi(x)||^2 =
(gamma/2) psi^2. With gamma = 0 the field is a rotation, so the continuous flow circles at
constant radius, simultaneous steps spiral outwards (r_{k+1}^2 = r_k^2 (1 + h^2 s_k^2)) and
alternating steps keep circling; with gamma > 0 the iterates converge to (0, 0).
"""

from __future__ import annotations

import math

import torch

__all__ = ["dirac_value", "dirac_vector_field", "dirac_trajectory"]

MODES = ("simultaneous", "alternating")


def dirac_value(theta, psi):
    """V(theta, psi) = -log 2 + logsigmoid(-psi theta) (floats or tensors). Book: {eq}`dirac-gan`."""
    theta, psi = torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(psi, dtype=torch.float64)
    return -math.log(2.0) + torch.nn.functional.logsigmoid(-psi * theta)


def dirac_vector_field(theta, psi, gamma: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient-play field v = (psi s, -theta s - gamma psi), s = sigmoid(psi theta).

    v_theta = -dV/dtheta (G descends V), v_psi = dV/dpsi - gamma psi (D ascends V minus the R1
    penalty (gamma/2) psi^2). Book: {eq}`dirac-field`.
    """
    theta, psi = torch.as_tensor(theta, dtype=torch.float64), torch.as_tensor(psi, dtype=torch.float64)
    s = torch.sigmoid(psi * theta)
    return psi * s, -theta * s - gamma * psi


def dirac_trajectory(theta0: float = 1.0, psi0: float = 1.0, lr: float = 0.1, n_steps: int = 200,
                     mode: str = "simultaneous", gamma: float = 0.0) -> torch.Tensor:
    """Iterates of gradient play on the Dirac GAN, shape (n_steps + 1, 2), columns (theta, psi).

    simultaneous: (theta, psi) <- (theta, psi) + lr * v(theta, psi)
    alternating:  psi <- psi + lr * v_psi(theta, psi), then theta <- theta + lr * v_theta(theta, psi_new)
    (D first, then G against the updated D, as in GAN training). ``gamma`` > 0 adds the R1 penalty.
    Book: {eq}`dirac-steps`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not (isinstance(n_steps, int) and not isinstance(n_steps, bool) and n_steps >= 0):
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
    if not lr > 0 or gamma < 0:
        raise ValueError(f"lr must be > 0 and gamma >= 0, got lr={lr!r}, gamma={gamma!r}")
    path = torch.empty(n_steps + 1, 2, dtype=torch.float64)
    theta, psi = torch.tensor(float(theta0), dtype=torch.float64), torch.tensor(float(psi0), dtype=torch.float64)
    path[0] = torch.stack([theta, psi])
    for k in range(1, n_steps + 1):
        if mode == "simultaneous":
            v_theta, v_psi = dirac_vector_field(theta, psi, gamma)
            theta, psi = theta + lr * v_theta, psi + lr * v_psi
        else:
            psi = psi + lr * dirac_vector_field(theta, psi, gamma)[1]
            theta = theta + lr * dirac_vector_field(theta, psi, gamma)[0]
        path[k] = torch.stack([theta, psi])
    return path
