"""Generative Latent Optimization (Bojanowski et al. 2017): codes, Lap1 loss, training, sampling."""

from .codes import (
    PROJECTIONS,
    LatentCodes,
    pca_codes,
    project_to_ball,
    project_to_sphere,
)
from .pyramid import (
    blur,
    gaussian_kernel_1d,
    glo_loss,
    lap1_loss,
    lap1_weights,
    laplacian_pyramid,
    reconstruct,
)
from .invert import invert
from .latent import arithmetic, interpolate, principal_directions, traversal
from .sampling import JITTER, fit_diagonal_gaussian, fit_gaussian, sample
from .train import train_glo

__all__ = [
    "LatentCodes",
    "PROJECTIONS",
    "pca_codes",
    "project_to_ball",
    "project_to_sphere",
    "blur",
    "gaussian_kernel_1d",
    "glo_loss",
    "lap1_loss",
    "lap1_weights",
    "laplacian_pyramid",
    "reconstruct",
    "train_glo",
    "invert",
    "arithmetic",
    "interpolate",
    "principal_directions",
    "traversal",
    "JITTER",
    "fit_gaussian",
    "fit_diagonal_gaussian",
    "sample",
]

# --- is the latent space Gaussian? gaussianity.py ---
from .gaussianity import (
    fit_gmm,
    interpolation_off_support,
    mardia_skewness_kurtosis,  # noqa: E402
    nearest_distances,
    nearest_neighbour_copies,
    principal_normality,
)

__all__ += [
    "mardia_skewness_kurtosis",
    "principal_normality",
    "fit_gmm",
    "nearest_distances",
    "interpolation_off_support",
    "nearest_neighbour_copies",
]

# --- GLO as nonlinear dictionary learning: dictionary.py ---
from .dictionary import atom_recovery, sparse_dictionary_data  # noqa: E402

__all__ += ["sparse_dictionary_data", "atom_recovery"]
