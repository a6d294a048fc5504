"""The Frechet distance between two Gaussians, and an FID-style score in a digit classifier's features.

For N(mu1, Sigma1) and N(mu2, Sigma2) the squared 2-Wasserstein (Frechet) distance is

    d^2 = ||mu1 - mu2||^2 + Tr(Sigma1 + Sigma2 - 2 (Sigma1 Sigma2)^{1/2}).

FID (Heusel et al. 2017) fits one Gaussian to the Inception features of real images and one to
those of generated images and reports d^2. Inception weights cannot be downloaded here, so
:func:`classifier_frechet_distance` uses the penultimate layer of the package's own MNIST
classifier (:mod:`glo_teach.metrics.classifier`). The numbers are comparable with each other,
not with published FIDs.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validate import check_images

__all__ = ["gaussian_stats", "frechet_distance", "classifier_frechet_distance"]


def _as_array(a: object, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().double().numpy()
    if not isinstance(a, (np.ndarray, list, tuple, int, float)):
        raise TypeError(
            f"{name} must be a torch.Tensor, numpy array or list of numbers, got {type(a).__name__}"
        )
    return np.asarray(a, dtype=np.float64)


def gaussian_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(mu, Sigma): the mean (D,) and unbiased covariance (D, D) of features (N, D), N >= 2."""
    f = _as_array(features, "features")
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2, got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues < 0 from round-off -> 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """d^2 = ||mu1 - mu2||^2 + Tr(Sigma1 + Sigma2 - 2 (Sigma1 Sigma2)^{1/2}), float64.

    Sigma1 Sigma2 is similar to the PSD matrix M = Sigma1^{1/2} Sigma2 Sigma1^{1/2}, so
    Tr (Sigma1 Sigma2)^{1/2} = sum_i sqrt(lambda_i(M)), computed with symmetric eigen-decompositions
    (``numpy.linalg.eigh``). Unlike a general matrix square root this stays exact for singular
    covariances (fewer samples than dimensions, dead ReLU features). In 1-D the result is
    (mu1 - mu2)^2 + (s1 - s2)^2, the squared W2 distance between two normals.

    d^2 >= 0 in exact arithmetic, but for equal inputs the three traces cancel to a round-off of either
    sign (-3.5e-7 for classifier features of the same images); the result is clamped at 0, so
    identical inputs give exactly 0.0 and never a negative "distance". Book: {eq}`fid-frechet`
    """
    mu1, mu2 = _as_array(mu1, "mu1").reshape(-1), _as_array(mu2, "mu2").reshape(-1)
    sigma1, sigma2 = (
        np.atleast_2d(_as_array(sigma1, "sigma1")),
        np.atleast_2d(_as_array(sigma2, "sigma2")),
    )
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"expected mu1, mu2 of shape ({d},) and sigmas of shape ({d}, {d}), got "
            f"{mu2.shape}, {sigma1.shape}, {sigma2.shape}"
        )
    root1 = _sqrt_psd(sigma1)
    m = root1 @ sigma2 @ root1  # (d, d), symmetric PSD
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    d2 = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)
    return max(d2, 0.0)  # round-off can make equal Gaussians a tiny negative number


def classifier_frechet_distance(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    classifier=None,
    batch_size: int = 500,
) -> float:
    """Frechet distance between Gaussians fitted to classifier features phi(x) of real and fake images.

    d^2(N(mu_r, Sigma_r), N(mu_g, Sigma_g)) with (mu, Sigma) = :func:`gaussian_stats` of
    ``classifier.features``; ``classifier`` defaults to :func:`~glo_teach.metrics.classifier.load_classifier`.
    Images: (N, 1, 32, 32) in [-1, 1]. Book: {eq}`fid-classifier`
    """
    from .classifier import load_classifier

    check_images(real_images, "real_images", channels=1, size=32)
    check_images(fake_images, "fake_images", channels=1, size=32)
    classifier = classifier if classifier is not None else load_classifier()
    mu_r, sigma_r = gaussian_stats(
        classifier.features(real_images, batch_size=batch_size)
    )
    mu_g, sigma_g = gaussian_stats(
        classifier.features(fake_images, batch_size=batch_size)
    )
    return frechet_distance(mu_r, sigma_r, mu_g, sigma_g)
