"""CelebA, aligned and cropped faces (Liu et al. 2015), centre-cropped and resized to 64 or 128.

CelebA's agreement forbids redistribution and its host needs a manual click-through, so the
archive ``img_align_celeba.zip`` (202,599 JPEGs of 178x218) must be placed by hand in
``<data dir>/celeba/``; it is verified by MD5. Each image is centre-cropped to 140x140 and
resized (antialiased) to ``size``; the result is cached as ``celeba/celeba_<size>.npy``.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .files import fetch

ZIP_NAME = "img_align_celeba.zip"
ZIP_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"
CROP = 140
SIZES = (64, 128)


def crop_resize(jpeg: bytes, size: int, crop: int = CROP) -> np.ndarray:
    """One JPEG to a (3, size, size) uint8 array: centre crop ``crop x crop``, then resize."""
    from PIL import Image

    img = Image.open(io.BytesIO(jpeg)).convert("RGB")
    w, h = img.size
    left, top = (w - crop) // 2, (h - crop) // 2
    img = img.crop((left, top, left + crop, top + crop)).resize(
        (size, size), Image.BICUBIC
    )
    return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def read_celeba_zip(path, size: int) -> np.ndarray:
    """All ``.jpg`` files of the archive, in name order, as (N, 3, size, size) uint8."""
    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if n.lower().endswith(".jpg"))
        if not names:
            raise ValueError(f"{path} holds no .jpg images")
        return np.stack([crop_resize(z.read(n), size) for n in names])


def load_celeba_arrays(size: int) -> tuple[np.ndarray, np.ndarray]:
    if size not in SIZES:
        raise ValueError(f"CelebA size must be one of {SIZES}, got {size}")
    archive = fetch(
        "celeba", ZIP_NAME, ZIP_MD5
    )  # no public direct URL: place it by hand
    cache = Path(archive).parent / f"celeba_{size}.npy"
    if cache.exists():
        images = np.load(cache)
    else:
        images = read_celeba_zip(archive, size)
        fd, tmp = tempfile.mkstemp(suffix=".npy.part", dir=cache.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, images)
            os.replace(tmp, cache)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return images, np.full(len(images), -1, dtype=np.int64)
