"""Sharpness as the variance of the discrete Laplacian, Book: {eq}`laplacian-variance`."""

import pytest
import torch
import torch.nn.functional as F

from glo_teach.metrics import laplacian_variance


def test_checkerboard_and_constant_closed_forms():
    """A +-1 checkerboard has Lap x = -8 x (four neighbours of the opposite sign), so variance 64; a constant has 0."""
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    board = ((-1.0) ** (i + j)).view(1, 1, 8, 8)
    constant = torch.full((1, 3, 8, 8), 0.3)
    s = laplacian_variance(torch.cat([board, board.neg()]))
    assert torch.allclose(s, torch.tensor([64.0, 64.0], dtype=torch.float64))
    assert laplacian_variance(constant).item() == 0.0


def test_against_slicing_oracle():
    """The 5-point stencil on interior pixels, written with array slices, pooled over channels (population variance)."""
    x = (
        torch.rand(4, 3, 9, 7, generator=torch.Generator().manual_seed(1)).double() * 2
        - 1
    )
    lap = (
        x[:, :, :-2, 1:-1]
        + x[:, :, 2:, 1:-1]
        + x[:, :, 1:-1, :-2]
        + x[:, :, 1:-1, 2:]
        - 4 * x[:, :, 1:-1, 1:-1]
    )
    expected = torch.stack([((v - v.mean()) ** 2).mean() for v in lap.flatten(1)])
    assert torch.allclose(laplacian_variance(x.float()), expected, atol=1e-6)


def test_blur_lowers_sharpness():
    """A 3x3 box blur is a low-pass filter: it lowers the score of noise images; a linear ramp has Lap = 0 everywhere."""
    x = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(2)) * 2 - 1
    blurred = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert (laplacian_variance(blurred) < laplacian_variance(x)).all()
    ramp = torch.linspace(-1, 1, 10).view(1, 1, 1, 10).expand(1, 1, 10, 10)
    assert laplacian_variance(ramp).item() < 1e-12


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least 3x3"):
        laplacian_variance(torch.zeros(1, 1, 2, 5))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        laplacian_variance(torch.zeros(5, 5))
