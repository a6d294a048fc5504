"""Toy distributions for the theory chapters, with exact densities where they exist.

- :class:`GaussianMixture1D`: a 1-D mixture with an exact ``pdf`` (for D*, JS and V(D*, G)).
- :class:`GaussianMixture2D`: isotropic 2-D mixtures; :func:`ring_of_gaussians` (8 modes on a
  circle of radius 2, std 0.02) and :func:`grid_of_gaussians` (25 modes on {-4,-2,0,2,4}^2,
  std 0.05), the standard mode-collapse benchmarks; ``centers`` and ``std`` are exposed.
- :func:`swiss_roll`: a 2-D curved manifold with no modes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = [
    "GaussianMixture1D",
    "GaussianMixture2D",
    "ring_of_gaussians",
    "grid_of_gaussians",
    "swiss_roll",
]


def _weights(weights, k: int) -> torch.Tensor:
    w = (
        torch.full((k,), 1.0 / k, dtype=torch.float64)
        if weights is None
        else torch.as_tensor(weights, dtype=torch.float64)
    )
    if (
        w.shape != (k,)
        or (w < 0).any()
        or not math.isclose(w.sum().item(), 1.0, rel_tol=1e-9)
    ):
        raise ValueError(
            f"weights must be {k} non-negative numbers summing to 1, got {w.tolist()}"
        )
    return w


@dataclass
class GaussianMixture1D:
    """p(x) = sum_k w_k N(x; mu_k, sigma_k^2)."""

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor

    def __init__(self, means, stds, weights=None):
        self.means = torch.as_tensor(means, dtype=torch.float64).reshape(-1)
        self.stds = (
            torch.as_tensor(stds, dtype=torch.float64)
            .reshape(-1)
            .expand_as(self.means)
            .clone()
        )
        if (self.stds <= 0).any():
            raise ValueError(f"stds must be positive, got {self.stds.tolist()}")
        self.weights = _weights(weights, len(self.means))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) elementwise (float64)."""
        x = torch.as_tensor(x, dtype=torch.float64)[..., None]
        comp = (
            -0.5 * ((x - self.means) / self.stds) ** 2
            - torch.log(self.stds)
            - 0.5 * math.log(2 * math.pi)
        )
        return torch.logsumexp(comp + torch.log(self.weights), dim=-1)

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob(x).exp()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples, shape (n, 1), float32."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, generator=generator, dtype=torch.float64)
        return (self.means[k] + self.stds[k] * eps).float()[:, None]


@dataclass
class GaussianMixture2D:
    """Equal-weight isotropic mixture: p(x) = (1/K) sum_k N(x; c_k, std^2 I)."""

    centers: torch.Tensor  # (K, 2)
    std: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples, shape (n, 2), float32."""
        k = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[k] + self.std * torch.randn(n, 2, generator=generator)

    def sample_with_modes(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        k = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[k] + self.std * torch.randn(n, 2, generator=generator), k

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        d2 = torch.cdist(x.double(), self.centers.double()) ** 2
        comp = -0.5 * d2 / self.std**2 - math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(comp, dim=-1) - math.log(len(self.centers))


def ring_of_gaussians(
    k: int = 8, radius: float = 2.0, std: float = 0.02
) -> GaussianMixture2D:
    angles = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
    return GaussianMixture2D(
        torch.stack([radius * angles.cos(), radius * angles.sin()], 1).float(), std
    )


def grid_of_gaussians(
    k: int = 5, spacing: float = 2.0, std: float = 0.05
) -> GaussianMixture2D:
    ticks = (torch.arange(k, dtype=torch.float32) - (k - 1) / 2) * spacing
    return GaussianMixture2D(torch.cartesian_prod(ticks, ticks), std)


def swiss_roll(
    n: int, noise: float = 0.05, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` points (n, 2) on the roll (t cos t, t sin t)/5, t ~ U(1.5pi, 4.5pi), plus Gaussian noise."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    x = torch.stack([t * t.cos(), t * t.sin()], 1) / 5
    return x + noise * torch.randn(n, 2, generator=generator)
