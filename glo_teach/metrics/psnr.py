"""Peak signal-to-noise ratio, Eq. 2 of the GLO paper, per image then averaged.

The paper prints pSNR(I, R) = -20 log10(MAX(I) / sqrt(MSE(I, R))); the minus sign is a typo
(it would make every good reconstruction negative). The standard definition, used for the
paper's Table 1 numbers (20 to 30 dB), is

    pSNR(I, R) = 20 log10(MAX / sqrt(MSE(I, R))) = 10 log10(MAX^2 / MSE(I, R)),

with MSE the mean over the C x H x W pixels of one image. Images here live in [-1, 1], so MAX
is the peak-to-peak range 2 (``PIXEL_RANGE``): the same number as [0, 1] images with MAX = 1.

Identical images have MSE = 0 and an infinite pSNR; one such image would make a data set's mean
infinite. We cap each image's pSNR at ``max_db`` (default 100 dB, far above any real
reconstruction and above the paper's sanity check of > 50 dB), i.e. MSE is clamped below at
MAX^2 10^(-max_db / 10). Pass ``max_db=float("inf")`` to get inf instead.
"""

from __future__ import annotations

import math

import torch

from .._validate import check_images, check_labels, check_same_shape
from ..data.constants import PIXEL_RANGE

__all__ = ["psnr", "psnr_per_image", "psnr_per_class", "PSNR_CAP_DB"]

PSNR_CAP_DB = 100.0


def psnr_per_image(
    x: torch.Tensor,
    y: torch.Tensor,
    max_val: float = PIXEL_RANGE,
    max_db: float = PSNR_CAP_DB,
) -> torch.Tensor:
    """10 log10(max_val^2 / MSE_i) for each image i, capped at ``max_db``; shape (N,), float64.

    MSE_i = mean_{c,h,w} (x_i - y_i)^2. Book: {eq}`psnr`.
    """
    check_images(x, "x")
    check_images(y, "y")
    check_same_shape(x, y, "x and y")
    if not max_val > 0:
        raise ValueError(f"max_val must be positive, got {max_val}")
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    floor = max_val**2 * 10 ** (-max_db / 10) if math.isfinite(max_db) else 0.0
    return 10 * torch.log10(max_val**2 / mse.clamp(min=floor))


def psnr(
    x: torch.Tensor,
    y: torch.Tensor,
    max_val: float = PIXEL_RANGE,
    max_db: float = PSNR_CAP_DB,
) -> float:
    """(1/N) sum_i 10 log10(max_val^2 / MSE_i): the mean of the per-image pSNR (dB), Eq. 2.

    The mean of per-image pSNR is at least the pSNR of the pooled MSE (log is concave), so the
    two reductions differ; Table 1 reports a mean over images. Book: {eq}`psnr`.
    """
    return psnr_per_image(x, y, max_val, max_db).mean().item()


def psnr_per_class(
    x: torch.Tensor,
    y: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    max_val: float = PIXEL_RANGE,
    max_db: float = PSNR_CAP_DB,
) -> torch.Tensor:
    """(1/N_k) sum_{i: labels_i = k} pSNR_i for k = 0..n_classes-1, NaN where N_k = 0; shape (n_classes,), float64.

    The mean pSNR of the images of each class; ``labels`` are int64 class indices, shape (N,). Weighted by N_k / N, these means average back to
    :func:`psnr`. Book: {eq}`psnr-per-class`.
    """
    per_image = psnr_per_image(x, y, max_val, max_db)  # (N,)
    labels = check_labels(labels, len(per_image), n_classes).to(per_image.device)
    total = torch.zeros(
        n_classes, dtype=torch.float64, device=per_image.device
    ).index_add_(0, labels, per_image)
    count = torch.bincount(labels, minlength=n_classes).double()  # N_k
    return total / count  # 0 / 0 = NaN for an empty class
