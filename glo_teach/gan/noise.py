"""Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): blur both distributions.

When p_data and p_g live on disjoint low-dimensional sets, JS(p_data || p_g) = log 2 and the
optimal discriminator separates them perfectly, so it gives the generator no useful gradient.
Adding the same Gaussian noise to the real and the generated samples that D sees replaces both
by their convolutions with N(0, sigma^2 I), which overlap everywhere; sigma is annealed to 0 so
that, at the end, the game is the original one.
"""

from __future__ import annotations

import math

import torch

from .._validate import check_tensor

__all__ = ["add_instance_noise", "instance_noise_sigma"]

SCHEDULES = ("constant", "linear", "cosine")


def add_instance_noise(
    x: torch.Tensor, sigma: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """x_tilde = x + sigma * n,  n ~ N(0, I) of x's shape (fresh per element; x itself if sigma = 0).

    Apply it to both the real and the generated batch before the discriminator, so that D
    compares p_data * N(0, sigma^2 I) with p_g * N(0, sigma^2 I). Book: {eq}`instance-noise`.
    """
    x = check_tensor(x, "x")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if not (isinstance(sigma, (int, float)) and sigma >= 0):
        raise ValueError(f"sigma must be a non-negative number, got {sigma!r}")
    if sigma == 0:
        return x
    device = x.device if generator is None else generator.device
    n = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=device).to(
        x.device
    )
    return x + sigma * n


def instance_noise_sigma(
    step: int, total_steps: int, sigma0: float, kind: str = "linear"
) -> float:
    """The noise level at ``step`` (0-based) out of ``total_steps``, annealed from sigma0 to 0.

    constant: sigma_t = sigma0
    linear:   sigma_t = sigma0 * max(0, 1 - t / T)
    cosine:   sigma_t = sigma0 * (1 + cos(pi * min(t, T) / T)) / 2
    Book: {eq}`instance-noise-schedule`.
    """
    if kind not in SCHEDULES:
        raise ValueError(f"kind must be one of {SCHEDULES}, got {kind!r}")
    if (
        not isinstance(total_steps, int)
        or isinstance(total_steps, bool)
        or total_steps <= 0
    ):
        raise ValueError(f"total_steps must be a positive int, got {total_steps!r}")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError(f"step must be a non-negative int, got {step!r}")
    if not (isinstance(sigma0, (int, float)) and sigma0 >= 0):
        raise ValueError(f"sigma0 must be a non-negative number, got {sigma0!r}")
    t = min(step, total_steps) / total_steps  # fraction of training done, in [0, 1]
    if kind == "constant":
        return float(sigma0)
    if kind == "linear":
        return float(sigma0) * (1.0 - t)
    return float(sigma0) * (1.0 + math.cos(math.pi * t)) / 2
