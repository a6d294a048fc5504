"""Data: MNIST, Fashion-MNIST, SVHN, CelebA (images in [-1, 1], the paper's split) and toys."""

from .constants import PIXEL_MAX, PIXEL_MIN, PIXEL_RANGE, TEST_EVERY
from .datasets import (
    CLASS_NAMES,
    DATASETS,
    ImageDataset,
    batches,
    evenly_spaced,
    load_dataset,
    paper_split,
)
from .files import ChecksumError, DataNotFoundError, data_dirs, fetch, md5sum
from .idx import read_idx
from .toys import (
    GaussianMixture1D,
    GaussianMixture2D,
    grid_of_gaussians,
    ring_of_gaussians,
    swiss_roll,
)

__all__ = [
    "PIXEL_MIN",
    "PIXEL_MAX",
    "PIXEL_RANGE",
    "TEST_EVERY",
    "CLASS_NAMES",
    "DATASETS",
    "ImageDataset",
    "batches",
    "evenly_spaced",
    "load_dataset",
    "paper_split",
    "ChecksumError",
    "DataNotFoundError",
    "data_dirs",
    "fetch",
    "md5sum",
    "read_idx",
    "GaussianMixture1D",
    "GaussianMixture2D",
    "grid_of_gaussians",
    "ring_of_gaussians",
    "swiss_roll",
]
