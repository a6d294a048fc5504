"""Image data sets as in-memory tensors in [-1, 1], split as in the GLO paper.

All images of a data set (the official train and test files together) are ordered as
published; every 32nd one (index ``i % 32 == 0``) is the test set, the rest is training
(GLO paper, Sec. 4.1: "evenly-spaced images corresponding to 1/32 of the data").
MNIST and Fashion-MNIST are resized from 28 to 32 pixels (bilinear), as in the paper.
Every item is ``(image, label, index)``: GLO keeps one latent code per training index.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .._validate import check_images
from .constants import PIXEL_MAX, PIXEL_MIN, TEST_EVERY
from .files import fetch
from .idx import read_idx

__all__ = [
    "ImageDataset",
    "load_dataset",
    "paper_split",
    "evenly_spaced",
    "batches",
    "split_size",
    "DATASETS",
]

_MNIST_URLS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
_FASHION_URLS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
_IDX_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
DATASETS = ("mnist", "fashion-mnist", "svhn", "celeba")
NATIVE_SIZE = {"mnist": 32, "fashion-mnist": 32, "svhn": 32, "celeba": 64}
# label k of each labelled data set is CLASS_NAMES[name][k]; CelebA has no class labels
CLASS_NAMES = {
    "mnist": tuple("0123456789"),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "svhn": tuple("0123456789"),
}


class ImageDataset(Dataset):
    """Images ``(N, C, H, W)`` float32 in [-1, 1] with labels ``(N,)`` (-1 when unlabelled)."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        name: str = "images",
    ):
        # rank, emptiness, dtype and the [-1, 1] range (0..255 pixels are refused) in one place
        check_images(images, f"images of data set {name!r}", check_range=True)
        if labels is None:
            labels = torch.full((len(images),), -1, dtype=torch.long)
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.name = images, labels, name

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        return self.images[i], self.labels[i], i

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def __repr__(self) -> str:
        return f"ImageDataset({self.name!r}, n={len(self)}, shape={self.image_shape})"


def paper_split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train_idx, test_idx)``: test is every 32nd index starting at 0, train the rest."""
    idx = torch.arange(n)
    test = idx % TEST_EVERY == 0
    return idx[~test], idx[test]


def evenly_spaced(n_total: int, n: int | None) -> torch.Tensor:
    """``n`` indices spread evenly over ``range(n_total)`` (all of them when ``n`` is None)."""
    if n is None or n >= n_total:
        return torch.arange(n_total)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    return torch.from_numpy(np.linspace(0, n_total - 1, n).round().astype(np.int64))


def to_unit_range(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 to float in [-1, 1]."""
    return x_uint8.float().div_(255.0).mul_(PIXEL_MAX - PIXEL_MIN).add_(PIXEL_MIN)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of a float batch to ``size x size`` (in chunks to bound memory)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    out = [
        F.interpolate(
            c, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        for c in x.split(8192)
    ]
    return torch.cat(out).clamp_(PIXEL_MIN, PIXEL_MAX)


@functools.lru_cache(maxsize=4)
def _idx_arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    urls = _MNIST_URLS if name == "mnist" else _FASHION_URLS
    md5 = _IDX_MD5[name]

    def read(f: str) -> np.ndarray:
        return read_idx(fetch(name, f, md5[f], [u + f for u in urls]))

    images = np.concatenate(
        [read("train-images-idx3-ubyte.gz"), read("t10k-images-idx3-ubyte.gz")]
    )
    labels = np.concatenate(
        [read("train-labels-idx1-ubyte.gz"), read("t10k-labels-idx1-ubyte.gz")]
    )
    return images, labels


def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    """All images of a data set as uint8 ``(N, C, H, W)`` with labels, in published order."""
    if name in ("mnist", "fashion-mnist"):
        images, labels = _idx_arrays(name)
        return images[:, None], labels
    if name == "svhn":
        from .svhn import load_svhn_arrays

        return load_svhn_arrays()
    if name == "celeba":
        raise ValueError("use load_dataset('celeba', size=64|128)")
    raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")


def load_dataset(
    name: str,
    split: str = "train",
    size: int | None = None,
    n: int | None = None,
    positions: torch.Tensor | None = None,
) -> ImageDataset:
    """A split (``train``, ``test`` or ``all``) of a data set, optionally ``n`` evenly spaced images.

    ``positions`` (instead of ``n``) picks those positions within the split, in that order (e.g. a
    validation part carved from the training split). Images are float32 in [-1, 1], resized to
    ``size`` (default: 32 for MNIST, Fashion-MNIST and SVHN, 64 for CelebA).
    """
    if positions is not None and n is not None:
        raise ValueError("give n or positions, not both")
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    size = size or NATIVE_SIZE[name]
    if name == "celeba":
        from .celeba import load_celeba_arrays

        images, labels = load_celeba_arrays(size)
    else:
        images, labels = _raw(name)
    train_idx, test_idx = paper_split(len(images))
    idx = {"train": train_idx, "test": test_idx, "all": torch.arange(len(images))}[
        split
    ]
    if positions is not None:
        positions = torch.as_tensor(positions, dtype=torch.long)
        if len(positions) and (positions.min() < 0 or positions.max() >= len(idx)):
            raise ValueError(
                f"positions must lie in 0..{len(idx) - 1} (the {split} split of {name})"
            )
        idx = idx[positions].numpy()
    else:
        idx = idx[evenly_spaced(len(idx), n)].numpy()
    x = resize(to_unit_range(torch.from_numpy(images[idx])), size)
    y = torch.from_numpy(labels[idx].astype(np.int64))
    return ImageDataset(x, y, name=f"{name}/{split}")


def split_size(name: str, split: str = "train") -> int:
    """How many images the ``train``, ``test`` or ``all`` split of a data set holds (no image is decoded
    for MNIST, Fashion-MNIST and SVHN beyond the cached raw arrays)."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if name == "celeba":
        from .celeba import load_celeba_arrays

        n = len(load_celeba_arrays(NATIVE_SIZE[name])[0])
    else:
        n = len(_raw(name)[0])
    train_idx, test_idx = paper_split(n)
    return {"train": len(train_idx), "test": len(test_idx), "all": n}[split]


def batches(
    dataset: ImageDataset,
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
    device: torch.device | str | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One epoch of ``(x, y, idx)`` batches sliced straight from memory (no per-item Python calls)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(dataset)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield (
            dataset.images[idx].to(device),
            dataset.labels[idx].to(device),
            idx.to(device),
        )
