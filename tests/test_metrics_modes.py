"""Mode metrics on hand-made samples: exact counts, the min_count boundary, reverse KL closed forms."""

import math

import pytest
import torch

from glo_teach.data import grid_of_gaussians, ring_of_gaussians
from glo_teach.metrics import (
    high_quality_fraction,
    mode_counts,
    mode_coverage,
    reverse_kl_modes,
)

CENTERS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
STD = 1.0  # 3 sigma = 3


def _samples():
    """5 at centre 0 (inside 3 sigma), 2 at centre 1, 0 at centre 2, 3 far from every centre."""
    return torch.tensor(
        [
            [0.0, 0.0],
            [1.0, 1.0],
            [-2.0, 0.0],
            [0.0, 2.9],
            [2.0, -2.0],  # mode 0 (|.| <= 2.9)
            [10.0, 0.5],
            [12.9, 0.0],  # mode 1 (distance 0.5 and 2.9)
            [5.0, 5.0],
            [0.0, 3.2],
            [10.0, 3.5],  # low quality: nearest centre farther than 3
        ]
    )


def test_mode_counts_hand_computed():
    """n_k = #{i: nearest centre k, within 3 sigma} (eq. modes-high-quality) on a hand-counted case."""
    assert mode_counts(_samples(), CENTERS, STD).tolist() == [5, 2, 0]


def test_mode_coverage_min_count_boundary():
    """A mode counts as covered iff n_k >= min_count (eq. modes-coverage): boundary at n_k = 2 and 5."""
    s = _samples()
    assert mode_coverage(s, CENTERS, STD, min_count=1) == 2
    assert mode_coverage(s, CENTERS, STD, min_count=2) == 2  # n_1 = 2 is exactly enough
    assert mode_coverage(s, CENTERS, STD, min_count=3) == 1  # ... and 3 is one too many
    assert mode_coverage(s, CENTERS, STD, min_count=5) == 1
    assert mode_coverage(s, CENTERS, STD, min_count=6) == 0


def test_three_sigma_boundary_is_inclusive():
    """A sample at exactly 3 sigma is high quality, one just beyond is not."""
    s = torch.tensor([[3.0, 0.0], [3.0 + 1e-3, 0.0]])
    assert mode_counts(s, CENTERS[:1], STD).tolist() == [1]


def test_high_quality_fraction_hand_computed():
    """Fraction within 3 sigma of some centre (eq. modes-high-quality): 7 of 10."""
    assert abs(high_quality_fraction(_samples(), CENTERS, STD) - 0.7) < 1e-12


def test_reverse_kl_uniform_is_zero_and_collapse_is_log_k():
    """KL(q || uniform) = log K - H(q) (eq. modes-reverse-kl): 0 for q uniform, log K for one mode."""
    ring = ring_of_gaussians()
    uniform = ring.centers.repeat_interleave(
        3, dim=0
    )  # 3 samples exactly at each of the 8 centres
    assert abs(reverse_kl_modes(uniform, ring.centers, ring.std) - 0.0) < 1e-12
    collapsed = ring.centers[2].expand(50, 2)
    assert (
        abs(reverse_kl_modes(collapsed, ring.centers, ring.std) - math.log(8)) < 1e-12
    )


def test_reverse_kl_matches_direct_sum_and_ignores_low_quality():
    """KL = sum_k q_k log(q_k K) with q over high-quality samples only: q = (5/7, 2/7, 0)."""
    q = torch.tensor([5 / 7, 2 / 7], dtype=torch.float64)
    expected = (q * (q * 3).log()).sum().item()
    assert abs(reverse_kl_modes(_samples(), CENTERS, STD) - expected) < 1e-12


def test_reverse_kl_nan_without_high_quality_samples():
    """No sample within 3 sigma: q is undefined and the result is nan (documented)."""
    assert math.isnan(reverse_kl_modes(torch.full((4, 2), 100.0), CENTERS, STD))


def test_real_samples_cover_the_grid():
    """Data drawn from the 25-mode grid: ~98.9% inside 3 sigma (chi_2: 1 - e^{-9/2}), all modes covered."""
    grid = grid_of_gaussians()
    gen = torch.Generator().manual_seed(0)
    s = grid.sample(5000, generator=gen)
    assert (
        abs(high_quality_fraction(s, grid.centers, grid.std) - (1 - math.exp(-4.5)))
        < 0.01
    )
    assert mode_coverage(s, grid.centers, grid.std, min_count=5000 // 25 // 5) == 25
    assert abs(reverse_kl_modes(s, grid.centers, grid.std) - 0.0) < 0.01


@pytest.mark.parametrize(
    "bad, err",
    [
        (dict(samples=torch.zeros(5, 3)), ValueError),  # dimension mismatch
        (dict(samples=torch.zeros(5)), ValueError),  # wrong rank
        (dict(samples=[[0.0, 0.0]]), TypeError),  # not a tensor
        (dict(std=0.0), ValueError),
        (dict(min_count=0), ValueError),
    ],
)
def test_mode_coverage_validates_inputs(bad, err):
    kwargs = (
        dict(samples=torch.zeros(5, 2), centers=CENTERS, std=1.0, min_count=1) | bad
    )
    with pytest.raises(err):
        mode_coverage(**kwargs)
