"""SVHN, cropped-digit format (32x32 ``.mat`` files; Netzer et al. 2011). Non-commercial use only.

The files hold ``X`` as (32, 32, 3, N) uint8 and ``y`` as (N, 1) with the digit 0 stored as 10.
The paper's data set is the ``train`` and ``test`` files together (``extra`` is not used).
"""

from __future__ import annotations

import numpy as np

from .files import fetch

URL = "http://ufldl.stanford.edu/housenumbers/"
MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}


def read_svhn_mat(path) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 3, 32, 32) uint8, labels (N,) in 0..9)`` from one SVHN ``.mat`` file."""
    from scipy.io import loadmat

    mat = loadmat(path)
    if "X" not in mat or "y" not in mat:
        raise ValueError(
            f"{path} is not an SVHN .mat file (keys {sorted(k for k in mat if not k.startswith('__'))})"
        )
    x, y = mat["X"], mat["y"].reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise ValueError(
            f"{path}: expected X of shape (32, 32, 3, N) with N = {len(y)}, got {x.shape}"
        )
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1)), (y % 10).astype(np.int64)


def load_svhn_arrays() -> tuple[np.ndarray, np.ndarray]:
    parts = [
        read_svhn_mat(fetch("svhn", f, MD5[f], [URL + f]))
        for f in ("train_32x32.mat", "test_32x32.mat")
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
