"""Latent optimisation as descent on an energy, and the step to Langevin sampling.

LOGAN's latent step (:func:`glo_teach.gan.latent_optimise`) climbs the discriminator's score
D(G(z)): it is gradient descent on the energy E(z) = -D(G(z)). Descent alone is mode-seeking:
run long enough, every code slides to a local maximum of D(G(z)) and the samples collapse. The
unadjusted Langevin algorithm adds Gaussian noise of the right size to each step,

    z_{t+1} = z_t - eta * grad E(z_t) + sqrt(2 eta) * xi_t,    xi_t ~ N(0, I),

whose iterates approach samples of p(z) proportional to exp(-E(z)) as eta -> 0 and t -> infinity.
With E(z) = -log p(z) - D(G(z)) and D the logit of the optimal discriminator, log p_data / p_g,
that density is p(z) p_data(G(z)) / p_g(G(z)): for an invertible G, G(z) is then distributed as
p_data (the reading of a GAN as an energy-based model, Che et al. 2020).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .._validate import check_latent

__all__ = ["langevin"]


def langevin(
    z: torch.Tensor,
    energy: Callable[[torch.Tensor], torch.Tensor],
    step_size: float,
    steps: int,
    noise: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``steps`` iterations of z <- z - eta grad E(z) + sqrt(2 eta) xi (``noise=False``: plain gradient
    descent on E, no xi), for a batch of codes z (N, d) and an energy returning one value per code (N,).

    Each code's energy must depend on that code only, so that one backward pass of sum_i E(z_i)
    gives every grad E(z_i). xi ~ N(0, I) is drawn with ``generator``. Returns the final codes,
    detached (no graph is kept between steps). Book: {eq}`logan-langevin`.
    """
    z = check_latent(z, name="z")
    if not (isinstance(step_size, (int, float)) and step_size > 0):
        raise ValueError(f"step_size must be a positive number, got {step_size!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    z = z.detach().clone()
    scale = math.sqrt(2.0 * step_size)
    for _ in range(steps):
        z.requires_grad_(True)
        e = energy(z)
        if e.shape != (z.shape[0],):
            raise ValueError(
                f"energy must return one value per code, shape ({z.shape[0]},), got {tuple(e.shape)}"
            )
        (grad,) = torch.autograd.grad(e.sum(), z)  # (N, d): row i is grad E(z_i)
        with torch.no_grad():
            z = z - step_size * grad
            if noise:
                xi = torch.randn(
                    z.shape,
                    generator=generator,
                    dtype=z.dtype,
                    device=z.device if generator is None else generator.device,
                ).to(z.device)
                z = z + scale * xi
    return z.detach()
