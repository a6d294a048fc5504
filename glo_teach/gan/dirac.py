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

Two further regularisers of Mescheder et al. (2018), Sec. 3–4:

- the one-centred (WGAN-GP) penalty lam E(||grad_x D|| - 1)^2 = lam (|psi| - 1)^2 (grad_x D = psi
  everywhere), whose gradient 2 lam (|psi| - 1) sign(psi) jumps by 4 lam at psi = 0: the field
  does not vanish near (0, 0) off the line psi = 0 (|v_psi| -> 2 lam), so (0, 0) is not an
  attracting fixed point and the iterates do not converge to it. Book: {eq}`dirac-gp1`.
- instance noise N(0, sigma^2) added to both the data point and the generated point: the field
  is the expectation over the noise (computed by Gauss–Hermite quadrature), and the Jacobian at
  (0, 0) becomes [[0, 1/2], [-1/2, -sigma^2/2]], eigenvalues -sigma^2/4 +- sqrt(sigma^4/16 - 1/4),
  with negative real part: it converges locally. Book: {eq}`dirac-instance-noise`.
"""

from __future__ import annotations

import math

import torch

__all__ = ["dirac_value", "dirac_vector_field", "dirac_trajectory"]

MODES = ("simultaneous", "alternating")
_HERMITE_NODES = 40


def _noise_nodes(noise_std: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss–Hermite (probabilists') nodes eps_j and weights w_j with sum_j w_j f(eps_j) ~ E f(eps), eps ~ N(0, std^2)."""
    import numpy as np

    x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
    return (
        torch.as_tensor(x, dtype=torch.float64) * noise_std,
        torch.as_tensor(w / w.sum(), dtype=torch.float64),
    )


def dirac_value(theta, psi):
    """V(theta, psi) = -log 2 + logsigmoid(-psi theta) (floats or tensors). Book: {eq}`dirac-gan`."""
    theta, psi = (
        torch.as_tensor(theta, dtype=torch.float64),
        torch.as_tensor(psi, dtype=torch.float64),
    )
    return -math.log(2.0) + torch.nn.functional.logsigmoid(-psi * theta)


def dirac_vector_field(
    theta, psi, gamma: float = 0.0, gp1_weight: float = 0.0, noise_std: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient-play field v = (psi s, -theta s - gamma psi), s = sigmoid(psi theta).

    v_theta = -dV/dtheta (G descends V), v_psi = dV/dpsi - gamma psi (D ascends V minus the R1
    penalty (gamma/2) psi^2). Book: {eq}`dirac-field`.

    ``gp1_weight`` = lam subtracts the gradient of the one-centred penalty lam (|psi| - 1)^2 from
    v_psi, i.e. adds -2 lam (|psi| - 1) sign(psi) (Book: {eq}`dirac-gp1`). ``noise_std`` = sigma > 0
    replaces V by its instance-noise version E_{e1, e2 ~ N(0, sigma^2)}[log sigmoid(psi e1) +
    log sigmoid(-psi (theta + e2))] (Book: {eq}`dirac-instance-noise`); its field is
    v_theta = psi E g'(-psi(theta + e)), v_psi = E[e g'(psi e)] - E[(theta + e) g'(-psi(theta + e))],
    g' = sigmoid(-.) the derivative of log sigmoid, expectations by Gauss–Hermite quadrature.
    """
    theta, psi = (
        torch.as_tensor(theta, dtype=torch.float64),
        torch.as_tensor(psi, dtype=torch.float64),
    )
    if noise_std < 0 or gp1_weight < 0:
        raise ValueError(
            f"noise_std and gp1_weight must be >= 0, got {noise_std!r}, {gp1_weight!r}"
        )
    if noise_std == 0:
        s = torch.sigmoid(psi * theta)
        v_theta, v_psi = psi * s, -theta * s - gamma * psi
    else:
        eps, w = _noise_nodes(noise_std)
        th, ps = theta.unsqueeze(-1), psi.unsqueeze(-1)
        g_fake = torch.sigmoid(
            ps * (th + eps)
        )  # g'(-psi (theta + e)) = sigmoid(psi (theta + e))
        g_real = torch.sigmoid(-ps * eps)  # g'(psi e)
        v_theta = (w * ps * g_fake).sum(-1)
        v_psi = (w * (eps * g_real - (th + eps) * g_fake)).sum(-1) - gamma * psi
    if gp1_weight:
        v_psi = v_psi - 2 * gp1_weight * (psi.abs() - 1) * torch.sign(psi)
    return v_theta, v_psi


def dirac_trajectory(
    theta0: float = 1.0,
    psi0: float = 1.0,
    lr: float = 0.1,
    n_steps: int = 200,
    mode: str = "simultaneous",
    gamma: float = 0.0,
    gp1_weight: float = 0.0,
    noise_std: float = 0.0,
) -> torch.Tensor:
    """Iterates of gradient play on the Dirac GAN, shape (n_steps + 1, 2), columns (theta, psi).

    simultaneous: (theta, psi) <- (theta, psi) + lr * v(theta, psi)
    alternating:  psi <- psi + lr * v_psi(theta, psi), then theta <- theta + lr * v_theta(theta, psi_new)
    (D first, then G against the updated D, as in GAN training). ``gamma`` > 0 adds the R1 penalty,
    ``gp1_weight`` > 0 the one-centred penalty, ``noise_std`` > 0 instance noise (the expected field,
    see ``dirac_vector_field``). Book: {eq}`dirac-steps`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not (
        isinstance(n_steps, int) and not isinstance(n_steps, bool) and n_steps >= 0
    ):
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
    if not lr > 0 or gamma < 0:
        raise ValueError(
            f"lr must be > 0 and gamma >= 0, got lr={lr!r}, gamma={gamma!r}"
        )
    reg = dict(gamma=gamma, gp1_weight=gp1_weight, noise_std=noise_std)
    path = torch.empty(n_steps + 1, 2, dtype=torch.float64)
    theta, psi = (
        torch.tensor(float(theta0), dtype=torch.float64),
        torch.tensor(float(psi0), dtype=torch.float64),
    )
    path[0] = torch.stack([theta, psi])
    for k in range(1, n_steps + 1):
        if mode == "simultaneous":
            v_theta, v_psi = dirac_vector_field(theta, psi, **reg)
            theta, psi = theta + lr * v_theta, psi + lr * v_psi
        else:
            psi = psi + lr * dirac_vector_field(theta, psi, **reg)[1]
            theta = theta + lr * dirac_vector_field(theta, psi, **reg)[0]
        path[k] = torch.stack([theta, psi])
    return path
