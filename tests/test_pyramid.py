"""Laplacian pyramid and Lap1, Book: {eq}`laplacian-pyramid` and {eq}`glo-lap1`."""

import math

import numpy as np
import pytest
import scipy.ndimage
import torch
import torch.nn.functional as F

from glo_teach.glo import (
    blur,
    gaussian_kernel_1d,
    glo_loss,
    lap1_loss,
    lap1_weights,
    laplacian_pyramid,
    reconstruct,
)
from glo_teach.glo.pyramid import filter_matrix


def _images(n=3, c=2, size=32, seed=0):
    return (
        torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2
        - 1
    )


def test_kernels_are_normalised_gaussians():
    """laplacian-pyramid: binomial [1,4,6,4,1]/16 by default; sampled exp(-t^2/2 sigma^2)/Z otherwise."""
    assert torch.allclose(gaussian_kernel_1d(5), torch.tensor([1.0, 4, 6, 4, 1]) / 16)
    t = np.arange(7) - 3.0
    k = np.exp(-(t**2) / (2 * 1.5**2))
    assert np.allclose(gaussian_kernel_1d(7, sigma=1.5).numpy(), k / k.sum(), atol=1e-7)


def test_blur_kernel_is_the_outer_product_not_the_sum():
    """Separable blur: the impulse response is outer(k, k); the public 'sum of two 1-D Gaussians' differs."""
    k = gaussian_kernel_1d(5, sigma=1.0)
    delta = torch.zeros(1, 1, 11, 11)
    delta[0, 0, 5, 5] = 1.0
    response = blur(delta, k)[0, 0, 3:8, 3:8]
    assert torch.allclose(response, torch.outer(k, k), atol=1e-7)
    t = torch.arange(5.0) - 2
    summed = (
        torch.exp(-(t**2) / 2)[:, None] + torch.exp(-(t**2) / 2)[None, :]
    )  # k(u) + k(v)
    summed = summed / summed.sum()
    assert (response - summed).abs().max() > 0.02


def test_blur_matches_scipy_2d_convolution():
    """Oracle: scipy.ndimage.convolve with outer(k, k) and mirror boundaries (torch's 'reflect')."""
    x = _images(2, 3, 16)
    k = gaussian_kernel_1d(5)
    ours = blur(x, k).double().numpy()
    ref = np.stack(
        [
            [scipy.ndimage.convolve(ch, np.outer(k, k), mode="mirror") for ch in img]
            for img in x.double().numpy()
        ]
    )
    assert np.abs(ours - ref).max() < 1e-6


def test_filter_matrices_match_scipy_reduce_and_expand():
    """laplacian-pyramid: B x = convolve1d(x, k, mirror); R = B[::2] keeps every other sample; E = 2 B U."""
    x = np.random.default_rng(0).normal(size=12)
    k = gaussian_kernel_1d(5, sigma=1.2).double().numpy()
    blurred = scipy.ndimage.convolve1d(x, k, mode="mirror")
    assert (
        np.abs(filter_matrix(12, torch.tensor(k)).numpy() @ x - blurred).max() < 1e-12
    )
    assert (
        np.abs(
            filter_matrix(12, torch.tensor(k), "reduce").numpy() @ x - blurred[::2]
        ).max()
        < 1e-12
    )
    up = np.zeros(12)
    up[::2] = x[:6]  # insert zeros between the samples
    expanded = 2 * scipy.ndimage.convolve1d(up, k, mode="mirror")
    assert (
        np.abs(
            filter_matrix(12, torch.tensor(k), "expand").numpy() @ x[:6] - expanded
        ).max()
        < 1e-12
    )


def test_pyramid_shapes_and_exact_reconstruction():
    """laplacian-pyramid: K levels, level k at 2^-k resolution; reconstruct(pyramid(x)) = x to float precision."""
    x = _images(4, 3, 64)
    pyr = laplacian_pyramid(x, 5)
    assert [p.shape[-1] for p in pyr] == [64, 32, 16, 8, 4]
    assert (reconstruct(pyr) - x).abs().max() < 1e-5
    assert torch.equal(laplacian_pyramid(x, 1)[0], x)


def test_pyramid_is_linear_and_constant_goes_to_the_residual():
    """laplacian-pyramid: L(a x + b y) = a L(x) + b L(y); a constant image lives only in the low-pass level."""
    x, y = _images(seed=1), _images(seed=2)
    for la, lx, ly in zip(
        laplacian_pyramid(2 * x - 3 * y), laplacian_pyramid(x), laplacian_pyramid(y)
    ):
        assert torch.allclose(la, 2 * lx - 3 * ly, atol=1e-5)
    pyr = laplacian_pyramid(torch.full((1, 1, 32, 32), 0.7), 4)
    assert max(p.abs().max().item() for p in pyr[:-1]) < 1e-6
    assert torch.allclose(pyr[-1], torch.full((1, 1, 4, 4), 0.7), atol=1e-6)


def test_lap1_of_identical_images_is_zero_and_it_is_a_distance():
    """glo-lap1: Lap1(x, x) = 0, Lap1(x, y) = Lap1(y, x) > 0 for x != y."""
    x, y = _images(seed=3), _images(seed=4)
    assert lap1_loss(x, x).item() == 0.0
    assert abs(lap1_loss(x, y).item() - lap1_loss(y, x).item()) < 1e-6
    assert lap1_loss(x, y).item() > 0.1


def test_lap1_weights_each_level_as_the_formula_says():
    """glo-lap1: perturbing one level only changes the loss by 2^{-2k} * mean|delta L_k|.

    A checkerboard of amplitude eps is removed exactly by the binomial blur, so it lives in L_0 only
    (weight 1); a constant shift c lives in the residual L_{K-1} only (weight 4^{-(K-1)}).
    """
    x = _images(seed=5)
    levels, eps = 4, 0.1
    h = torch.arange(32)
    checker = ((-1.0) ** (h[:, None] + h[None, :])).expand_as(x)
    w = lap1_weights(levels)
    assert w == [1.0, 0.25, 0.0625, 0.015625]
    assert abs(lap1_loss(x, x + eps * checker, levels).item() - w[0] * eps) < 1e-6
    assert abs(lap1_loss(x, x + eps, levels).item() - w[-1] * eps) < 1e-7
    # fine details weigh 4^{K-1} = 64 times more than the same amplitude in the low-pass level
    ratio = lap1_loss(x, x + eps * checker, levels) / lap1_loss(x, x + eps, levels)
    assert abs(ratio.item() - 4.0 ** (levels - 1)) < 1e-3


def _scipy_pyramid(img: np.ndarray, levels: int) -> list[np.ndarray]:
    """Oracle Laplacian pyramid of a 2-D image with scipy: REDUCE = convolve with the 5x5 binomial kernel
    (mirror borders), keep every other pixel; EXPAND = insert zeros, convolve, gain 4."""
    k = np.outer(*[np.array([1, 4, 6, 4, 1]) / 16] * 2)
    out, g = [], img
    for _ in range(levels - 1):
        g_next = scipy.ndimage.convolve(g, k, mode="mirror")[::2, ::2]
        up = np.zeros_like(g)
        up[::2, ::2] = g_next
        out.append(g - 4 * scipy.ndimage.convolve(up, k, mode="mirror"))
        g = g_next
    return out + [g]


def test_lap1_equals_weighted_sum_over_an_independent_pyramid():
    """glo-lap1 against an oracle pyramid built with scipy (REDUCE/EXPAND by ndimage.convolve)."""
    x, y = _images(1, 1, 16, seed=6), _images(1, 1, 16, seed=7)
    px, py = (
        _scipy_pyramid(x[0, 0].double().numpy(), 3),
        _scipy_pyramid(y[0, 0].double().numpy(), 3),
    )
    expected = sum(
        4.0**-j * np.abs(a - b).mean() for j, (a, b) in enumerate(zip(px, py))
    )
    assert abs(lap1_loss(x, y, levels=3).item() - expected) < 1e-5


def test_both_lap1_readings_against_a_hand_computation_on_two_levels():
    """glo-lap1, both readings, K = 2 levels of 4x4 images, numbers worked out by hand.

    Take x - y = a * checker + c (checker = (-1)^(h+w), a constant c). The binomial blur removes the
    checkerboard exactly (1 - 4 + 6 - 4 + 1 = 0, also at the reflected borders) and keeps constants,
    so by linearity L_0(x - y) = a * checker (16 coefficients, each |a|) and the residual
    L_1(x - y) = c (2x2, 4 coefficients, each |c|). Hence
      coefficient reading: 1 * mean|L_0| + 4^-1 * mean|L_1| = |a| + |c| / 4
                           (= (16 |a| + 4 |c|) / 16: every coefficient over P_0 = 16 pixels);
      level reading:       mean|L_0| + mean|L_1|             = |a| + |c|.
    Image 1: a = 0.3, c = -0.5 -> 0.3 + 0.125 = 0.425 and 0.3 + 0.5 = 0.8;
    image 2: a = -0.1, c = 0.2 -> 0.1 + 0.05 = 0.15  and 0.1 + 0.2 = 0.3.
    """
    h = torch.arange(4)
    checker = (-1.0) ** (h[:, None] + h[None, :])
    a, c = torch.tensor([0.3, -0.1]), torch.tensor([-0.5, 0.2])
    y = _images(2, 1, 4, seed=10) * 0.4
    x = y + a[:, None, None, None] * checker + c[:, None, None, None]
    coefficient = lap1_loss(x, y, levels=2, reduction="none", reading="coefficient")
    level = lap1_loss(x, y, levels=2, reduction="none", reading="level")
    assert torch.allclose(coefficient, torch.tensor([0.425, 0.15]), atol=1e-6)
    assert torch.allclose(level, torch.tensor([0.8, 0.3]), atol=1e-6)
    assert torch.equal(
        lap1_loss(x, y, levels=2, reduction="none"), coefficient
    )  # the default reading
    # the reading reaches the loss GLO and the inversion use
    assert torch.allclose(
        glo_loss(x, y, "lap1", levels=2, reduction="none", lap1_reading="level"), level
    )
    with pytest.raises(ValueError, match="reading must be one of"):
        lap1_loss(x, y, levels=2, reading="per-pixel")


def test_level_reading_against_the_scipy_pyramid():
    """glo-lap1, level reading: sum_k mean|L_k(x) - L_k(y)|, weight 1 per level, on the oracle pyramid."""
    x, y = _images(1, 1, 16, seed=11), _images(1, 1, 16, seed=12)
    levels = _scipy_pyramid((x - y)[0, 0].double().numpy(), 3)
    expected = sum(np.abs(l_k).mean() for l_k in levels)
    assert abs(lap1_loss(x, y, levels=3, reading="level").item() - expected) < 1e-5


def test_glo_loss_kinds():
    """glo-objective: "mse" is F.mse_loss; "l2+lap1" is their sum; reductions mean/sum/none agree."""
    x, y = _images(seed=8), _images(seed=9)
    assert abs(glo_loss(x, y, "mse").item() - F.mse_loss(x, y).item()) < 1e-6
    both = glo_loss(x, y, "l2+lap1").item()
    assert abs(both - F.mse_loss(x, y).item() - lap1_loss(x, y).item()) < 1e-5
    per = glo_loss(x, y, "lap1", reduction="none")
    assert per.shape == (3,)
    assert abs(per.sum().item() - glo_loss(x, y, "lap1", reduction="sum").item()) < 1e-5
    assert math.isclose(per.mean().item(), glo_loss(x, y, "lap1").item(), rel_tol=1e-6)


def test_bad_inputs_raise_clear_errors():
    """Validation: odd kernel sizes, too many levels, mismatched shapes, unknown loss kinds."""
    with pytest.raises(ValueError, match="odd"):
        gaussian_kernel_1d(4)
    with pytest.raises(ValueError, match="divisible by 32"):
        laplacian_pyramid(torch.zeros(1, 1, 32, 32), 6)
    with pytest.raises(ValueError, match="same shape"):
        lap1_loss(torch.zeros(1, 1, 32, 32), torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="loss kind"):
        glo_loss(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), "l1")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        blur(torch.zeros(8, 8))
