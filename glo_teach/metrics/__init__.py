"""Metrics: pSNR (overall and per class), sharpness, mode coverage on the toys, a digit classifier and a Frechet distance in its features."""

# --- reconstruction: psnr.py ---
from .psnr import PSNR_CAP_DB, psnr, psnr_per_class, psnr_per_image  # noqa: E402
from .sharpness import laplacian_variance  # noqa: E402

__all__ = globals().get("__all__", []) + [
    "psnr",
    "psnr_per_image",
    "psnr_per_class",
    "PSNR_CAP_DB",
    "laplacian_variance",
]

# --- generation: modes.py, classifier.py, frechet.py ---
from .classifier import (
    DigitClassifier,
    class_histogram,
    classifier_accuracy,
    load_classifier,
    train_classifier,
)  # noqa: E402
from .frechet import classifier_frechet_distance, frechet_distance, gaussian_stats  # noqa: E402
from .modes import high_quality_fraction, mode_counts, mode_coverage, reverse_kl_modes  # noqa: E402

__all__ = globals().get("__all__", []) + [
    "mode_counts",
    "mode_coverage",
    "high_quality_fraction",
    "reverse_kl_modes",
    "DigitClassifier",
    "train_classifier",
    "classifier_accuracy",
    "load_classifier",
    "class_histogram",
    "gaussian_stats",
    "frechet_distance",
    "classifier_frechet_distance",
]
