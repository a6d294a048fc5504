"""pSNR, Eq. 2 of the GLO paper, Book: {eq}`psnr`; per class, Book: {eq}`psnr-per-class`."""

import math

import pytest
import torch

from glo_teach.data import PIXEL_RANGE
from glo_teach.metrics import PSNR_CAP_DB, psnr, psnr_per_class, psnr_per_image


def test_hand_computed_case():
    """psnr: MSE = 0.01 with MAX = 2 gives 10 log10(4 / 0.01) = 26.0206 dB."""
    x = torch.zeros(1, 1, 4, 4)
    y = torch.full((1, 1, 4, 4), 0.1)
    assert abs(psnr(x, y) - 10 * math.log10(4 / 0.01)) < 1e-5  # 0.1 in float32
    assert abs(psnr(x, y) - 26.0206) < 1e-4
    # images in [0, 1] with MAX = 1 give the same number as [-1, 1] with MAX = 2
    assert (
        abs(
            psnr((x + 1) / 2, (y + 1) / 2, max_val=1.0)
            - psnr(x, y, max_val=PIXEL_RANGE)
        )
        < 1e-5
    )


def test_per_image_then_averaged():
    """psnr: the mean of per-image values, not the pSNR of the pooled MSE (they differ by Jensen)."""
    x = torch.zeros(2, 1, 2, 2)
    y = torch.stack([torch.full((1, 2, 2), 0.1), torch.full((1, 2, 2), 0.2)])
    per = psnr_per_image(x, y)
    expected = [10 * math.log10(4 / 0.01), 10 * math.log10(4 / 0.04)]
    assert torch.allclose(per, torch.tensor(expected, dtype=torch.float64), atol=1e-5)
    assert abs(psnr(x, y) - sum(expected) / 2) < 1e-5
    pooled = 10 * math.log10(4 / 0.025)
    assert psnr(x, y) - pooled > 0.5


def test_identical_images_are_capped():
    """psnr: MSE = 0 gives the cap (100 dB) per image, so one perfect image cannot make the mean inf."""
    x = torch.rand(3, 1, 4, 4)
    y = x.clone()
    y[1] += 0.1
    per = psnr_per_image(x, y)
    assert PSNR_CAP_DB == 100.0  # the documented cap (module docstring, eq. psnr)
    assert per[0].item() == PSNR_CAP_DB and per[2].item() == PSNR_CAP_DB
    assert abs(per[1].item() - 10 * math.log10(4 / 0.01)) < 1e-5
    assert math.isinf(psnr(x, x, max_db=float("inf")))


def test_bad_inputs():
    """Validation: shape mismatch, wrong rank, non-positive max_val."""
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(2, 1, 4, 4), torch.zeros(3, 1, 4, 4))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        psnr(torch.zeros(4, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="max_val"):
        psnr(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4), max_val=0)


def test_per_class_hand_computed_and_averages_back():
    """psnr_per_class: class means of the per-image pSNR, NaN for an empty class; weighted by N_k / N they give psnr."""
    x = torch.zeros(3, 1, 2, 2)
    y = torch.stack([torch.full((1, 2, 2), v) for v in (0.1, 0.2, 0.4)])
    labels = torch.tensor([2, 0, 2])
    per = psnr_per_class(x, y, labels, n_classes=4)
    db = [10 * math.log10(4 / v**2) for v in (0.1, 0.2, 0.4)]
    assert per.shape == (4,) and per.dtype == torch.float64
    assert (
        abs(per[0].item() - db[1]) < 1e-5
        and abs(per[2].item() - (db[0] + db[2]) / 2) < 1e-5
    )
    assert math.isnan(per[1].item()) and math.isnan(per[3].item())
    # against an independent loop over classes with psnr() on each class's images
    g = torch.Generator().manual_seed(0)
    x, y = (
        torch.rand(50, 1, 4, 4, generator=g) * 2 - 1,
        torch.rand(50, 1, 4, 4, generator=g) * 2 - 1,
    )
    labels = torch.randint(0, 5, (50,), generator=g)
    per = psnr_per_class(x, y, labels, 5)
    for k in range(5):
        assert abs(per[k].item() - psnr(x[labels == k], y[labels == k])) < 1e-9
    counts = torch.bincount(labels, minlength=5).double()
    assert abs((per * counts).sum().item() / 50 - psnr(x, y)) < 1e-9


def test_per_class_bad_labels():
    x = torch.zeros(3, 1, 2, 2)
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        psnr_per_class(x, x, torch.tensor([0, 1]), 2)
    with pytest.raises(TypeError, match="int64"):
        psnr_per_class(x, x, torch.tensor([0.0, 1.0, 1.0]), 2)
    with pytest.raises(ValueError, match="0..1, got values in 0..2"):
        psnr_per_class(x, x, torch.tensor([0, 1, 2]), 2)
