"""The Wasserstein-1 distance where it is known in closed form (Arjovsky et al. 2017).

- Parallel lines: P_0 is the law of (0, Z) and P_theta that of (theta, Z), Z ~ U[0, 1]. For
  theta != 0 the supports are disjoint, so JS = log 2 (and KL = +inf) whatever theta is, while
  W1 = |theta| shrinks continuously to 0: only W1 tells the generator which way to move.
- 1-D samples: W1 between two empirical distributions is the area between their CDFs,
  W1 = integral |F_a(t) - F_b(t)| dt, which for equal sample sizes is mean |a_(i) - b_(i)| over the
  sorted samples.
"""

from __future__ import annotations

import math

import torch

from .._validate import check_tensor

__all__ = ["js_parallel_lines", "w1_parallel_lines", "parallel_lines", "w1_1d"]


def js_parallel_lines(theta: float) -> float:
    """JS(P_0 || P_theta) = log 2 if theta != 0, else 0 (disjoint vs. equal supports). Book: {eq}`wgan-parallel-lines`."""
    return math.log(2.0) if float(theta) != 0.0 else 0.0


def w1_parallel_lines(theta: float) -> float:
    """W1(P_0, P_theta) = |theta| (move every point (0, z) to (theta, z)). Book: {eq}`wgan-parallel-lines`."""
    return abs(float(theta))


def parallel_lines(
    theta: float, n: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` samples (n, 2) of P_theta: (theta, z) with z ~ U[0, 1]."""
    z = torch.rand(n, generator=generator)
    return torch.stack([torch.full_like(z, float(theta)), z], 1)  # (n,) -> (n, 2)


def w1_1d(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """W1 between the empirical distributions of 1-D samples a (N,) and b (M,).

    W1 = integral |F_a(t) - F_b(t)| dt, summed exactly over the intervals between the sorted,
    pooled samples (for N = M this equals mean_i |a_(i) - b_(i)|). Book: {eq}`wgan-w1-1d`.
    """
    a, b = (
        check_tensor(a, "a").reshape(-1).double(),
        check_tensor(b, "b").reshape(-1).double(),
    )
    if a.numel() == 0 or b.numel() == 0:
        raise ValueError(
            f"a and b must be non-empty, got {a.numel()} and {b.numel()} samples"
        )
    a, b = a.sort().values, b.sort().values
    t = torch.cat([a, b]).sort().values  # all breakpoints of the two step CDFs
    cdf_a = (
        torch.searchsorted(a, t[:-1], right=True).double() / a.numel()
    )  # F_a on each interval [t_k, t_k+1)
    cdf_b = torch.searchsorted(b, t[:-1], right=True).double() / b.numel()
    return ((cdf_a - cdf_b).abs() * t.diff()).sum()
