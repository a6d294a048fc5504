"""Mode collapse on the toy mixtures: which modes a generator covers, and how well.

Every generated sample is assigned to its nearest centre c_k. It is *high quality* when it lies
within ``n_std`` standard deviations of that centre (the usual 3 sigma rule of the unrolled-GAN,
VEEGAN and PacGAN papers); otherwise it belongs to no mode. From the per-mode counts n_k of
high-quality samples:

- :func:`mode_coverage` counts the modes with at least ``min_count`` samples. The common "at
  least one sample within 3 sigma" rule is too lenient: a collapsed generator that throws a
  few stray points around still "covers" every mode. Ask for a share of the expected count.
- :func:`high_quality_fraction` is the share of samples within 3 sigma of some centre.
- :func:`reverse_kl_modes` is KL(q || p) between the histogram q of high-quality samples over
  the modes and the data's uniform mode weights p = 1/K.
"""

from __future__ import annotations

import math

import torch

from .._validate import check_positive_int, check_tensor

__all__ = ["mode_counts", "mode_coverage", "high_quality_fraction", "reverse_kl_modes"]


def _check(
    samples: object, centers: object, std: float
) -> tuple[torch.Tensor, torch.Tensor]:
    samples, centers = (
        check_tensor(samples, "samples"),
        check_tensor(centers, "centers"),
    )
    if samples.dim() != 2 or centers.dim() != 2:
        raise ValueError(
            f"samples and centers must have shape (N, D) and (K, D), got "
            f"{tuple(samples.shape)} and {tuple(centers.shape)}"
        )
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples have dimension {samples.shape[1]} but centers have {centers.shape[1]}"
        )
    if len(samples) == 0 or len(centers) == 0:
        raise ValueError(
            f"need at least one sample and one centre, got {len(samples)} and {len(centers)}"
        )
    if not (isinstance(std, (int, float)) and std > 0):
        raise ValueError(f"std must be a positive number, got {std!r}")
    return samples.detach().double().cpu(), centers.detach().double().cpu()


def mode_counts(
    samples: torch.Tensor, centers: torch.Tensor, std: float, n_std: float = 3.0
) -> torch.Tensor:
    """n_k = #{i : k = argmin_j ||x_i - c_j|| and ||x_i - c_k|| <= n_std * std}, shape (K,), int64.

    Samples farther than ``n_std * std`` from every centre are counted nowhere.
    Book: {eq}`modes-high-quality`
    """
    samples, centers = _check(samples, centers, std)
    dist = torch.cdist(samples, centers)  # (N, K)
    d_min, k = dist.min(dim=1)  # (N,), (N,)
    good = d_min <= n_std * std
    return torch.bincount(k[good], minlength=len(centers))


def mode_coverage(
    samples: torch.Tensor,
    centers: torch.Tensor,
    std: float,
    min_count: int = 1,
    n_std: float = 3.0,
) -> int:
    """Number of modes k with n_k >= min_count high-quality samples (n_k from :func:`mode_counts`).

    ``min_count=1`` is the lenient literature rule; with N samples and K equal modes a fair
    threshold is a fraction of N/K (the book uses 20% of it). Book: {eq}`modes-coverage`
    """
    check_positive_int(min_count, "min_count")
    return int((mode_counts(samples, centers, std, n_std) >= min_count).sum().item())


def high_quality_fraction(
    samples: torch.Tensor, centers: torch.Tensor, std: float, n_std: float = 3.0
) -> float:
    """(1/N) #{i : min_k ||x_i - c_k|| <= n_std * std}, in [0, 1]. Book: {eq}`modes-high-quality`"""
    return mode_counts(samples, centers, std, n_std).sum().item() / len(samples)


def reverse_kl_modes(
    samples: torch.Tensor, centers: torch.Tensor, std: float, n_std: float = 3.0
) -> float:
    """KL(q || p) = sum_k q_k log(q_k / p_k) with q_k = n_k / sum_j n_j and p_k = 1/K, in nats.

    Equivalently log K - H(q): 0 when the high-quality samples spread evenly over the modes,
    log K when they all fall in one mode. Empty bins contribute 0 (0 log 0 = 0), so dropped
    modes are penalised only through the mass they push elsewhere (reverse KL is mode-seeking).
    Low-quality samples are left out of q; read the result next to :func:`high_quality_fraction`.
    With no high-quality sample at all q is undefined and the result is ``nan``.
    Book: {eq}`modes-reverse-kl`
    """
    n = mode_counts(samples, centers, std, n_std).double()
    if n.sum() == 0:
        return math.nan
    q = n / n.sum()
    q_pos = q[q > 0]
    return (q_pos * (q_pos * len(n)).log()).sum().item()  # sum q log(q / (1/K))
