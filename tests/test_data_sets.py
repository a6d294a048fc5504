"""Data sets: IDX parsing, the paper's split, value range, indices, SVHN/CelebA formats, toys."""

import gzip
import hashlib
import io
import math
import struct
import zipfile

import numpy as np
import pytest
import scipy.io
import scipy.stats
import torch

from glo_teach.data import (
    PIXEL_MAX,
    PIXEL_MIN,
    GaussianMixture1D,
    batches,
    evenly_spaced,
    grid_of_gaussians,
    load_dataset,
    paper_split,
    read_idx,
    ring_of_gaussians,
    swiss_roll,
)
from glo_teach.data import celeba, svhn


def test_read_idx_hand_written(tmp_path):
    """IDX: magic 0 0 0x08 ndim, big-endian dims, then the bytes."""
    raw = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes(range(6))
    path = tmp_path / "t.idx.gz"
    path.write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(
        read_idx(path), np.arange(6, dtype=np.uint8).reshape(2, 3)
    )
    path.write_bytes(gzip.compress(raw[:-1]))
    with pytest.raises(ValueError, match="announces"):
        read_idx(path)
    path.write_bytes(gzip.compress(b"\x1f\x8b\x08\x00rest"))
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(path)


def test_paper_split_every_32nd_image():
    train, test = paper_split(70_000)
    assert test.tolist() == list(range(0, 70_000, 32))
    assert len(test) == 2188 and len(train) == 70_000 - 2188
    assert set(train.tolist()).isdisjoint(test.tolist())
    assert sorted(train.tolist() + test.tolist()) == list(range(70_000))


def test_mnist_split_range_and_indices():
    train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    assert len(train) == 67_812 and len(test) == 2188
    assert train.images.shape[1:] == (1, 32, 32) and train.images.dtype == torch.float32
    assert (
        train.images.min().item() == PIXEL_MIN
        and train.images.max().item() == PIXEL_MAX
    )
    # label counts of train+test files together (SOURCE.md: 5923+980 zeros, 6742+1135 ones, ...)
    counts = torch.bincount(
        torch.cat([train.labels, test.labels]), minlength=10
    ).tolist()
    assert counts == [6903, 7877, 6990, 7141, 6824, 6313, 6876, 7293, 6825, 6958]
    # test = every 32nd image of the concatenation: its first image is MNIST's first training image (a 5)
    whole = load_dataset("mnist", "all")
    torch.testing.assert_close(test.images, whole.images[::32])
    x, y, i = train[5]
    assert (
        i == 5
        and torch.equal(x, train.images[5])
        and y.item() == train.labels[5].item()
    )


def test_subset_is_evenly_spaced_and_batches_carry_indices():
    assert evenly_spaced(10, 4).tolist() == [0, 3, 6, 9]
    ds = load_dataset("mnist", "train", n=100)
    seen = []
    for x, y, idx in batches(ds, 32, generator=torch.Generator().manual_seed(0)):
        torch.testing.assert_close(x, ds.images[idx])
        seen += idx.tolist()
    assert sorted(seen) == list(range(100))
    assert sum(1 for _ in batches(ds, 32, drop_last=True)) == 3


def test_images_outside_the_value_range_are_refused():
    from glo_teach.data import ImageDataset

    with pytest.raises(
        ValueError, match=r"must lie in \[-1, 1\], got values in \[0, 255\]"
    ):
        ImageDataset(
            torch.tensor([0.0, 255.0])
            .reshape(2, 1, 1, 1)
            .expand(2, 1, 4, 4)
            .contiguous()
        )
    with pytest.raises(ValueError, match="empty"):
        ImageDataset(torch.zeros(0, 1, 4, 4))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        ImageDataset(torch.zeros(3, 4, 4))


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match="split must be"):
        load_dataset("mnist", "validation")


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_svhn_mat_fixture(isolated_data, monkeypatch):
    """SVHN .mat: X (32, 32, 3, N) uint8, y (N, 1) with digit 0 stored as 10."""
    rng = np.random.default_rng(0)
    (isolated_data / "svhn").mkdir()
    parts = {}
    for name, n in (("train_32x32.mat", 40), ("test_32x32.mat", 24)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = rng.integers(1, 11, (n, 1)).astype(np.uint8)
        scipy.io.savemat(isolated_data / "svhn" / name, {"X": x, "y": y})
        parts[name] = (x, y)
    monkeypatch.setattr(
        svhn, "MD5", {k: _md5(isolated_data / "svhn" / k) for k in parts}
    )
    ds = load_dataset("svhn", "all")
    assert ds.images.shape == (64, 3, 32, 32)
    x0, y0 = parts["train_32x32.mat"]
    expected = (
        torch.from_numpy(x0[:, :, :, 3].transpose(2, 0, 1).astype(np.float32)) / 255 * 2
        - 1
    )
    torch.testing.assert_close(ds.images[3], expected)
    assert ds.labels[:40].tolist() == (y0.reshape(-1) % 10).tolist()
    assert len(load_dataset("svhn", "test")) == 2  # indices 0 and 32 of 64


def test_celeba_zip_fixture(isolated_data, monkeypatch):
    """CelebA: 178x218 JPEGs, centre crop 140x140, resize to 64 or 128, cached."""
    from PIL import Image

    (isolated_data / "celeba").mkdir()
    archive = isolated_data / "celeba" / celeba.ZIP_NAME
    with zipfile.ZipFile(archive, "w") as z:
        for k in range(3):
            img = np.zeros(
                (218, 178, 3), dtype=np.uint8
            )  # black border outside the crop
            img[39:179, 19:159] = (200, 50 * k, 100)  # exactly the centre 140x140 crop
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="JPEG", quality=100)
            z.writestr(f"img_align_celeba/{k + 1:06d}.jpg", buf.getvalue())
    monkeypatch.setattr(celeba, "ZIP_MD5", _md5(archive))
    for size in (64, 128):
        ds = load_dataset("celeba", "all", size=size)
        assert ds.images.shape == (3, 3, size, size)
        colour = (ds.images.mean(dim=(2, 3)) + 1) / 2 * 255
        torch.testing.assert_close(
            colour,
            torch.tensor([[200.0, 50 * k, 100] for k in range(3)]),
            atol=3,
            rtol=0,
        )
        assert (isolated_data / "celeba" / f"celeba_{size}.npy").exists()
    with pytest.raises(ValueError, match="size must be one of"):
        load_dataset("celeba", size=32)


def test_gaussian_mixture_1d_density_matches_scipy():
    m = GaussianMixture1D([-1.0, 2.0], [0.5, 1.5], [0.25, 0.75])
    x = torch.linspace(-5, 6, 101, dtype=torch.float64)
    oracle = 0.25 * scipy.stats.norm.pdf(x, -1, 0.5) + 0.75 * scipy.stats.norm.pdf(
        x, 2, 1.5
    )
    np.testing.assert_allclose(m.pdf(x).numpy(), oracle, rtol=1e-12)
    s = m.sample(200_000, torch.Generator().manual_seed(0))
    assert abs(s.mean().item() - (0.25 * -1 + 0.75 * 2)) < 0.01
    with pytest.raises(ValueError, match="summing to 1"):
        GaussianMixture1D([0.0, 1.0], [1.0, 1.0], [0.5, 0.6])


def test_ring_and_grid_modes():
    ring = ring_of_gaussians()
    assert ring.centers.shape == (8, 2) and ring.std == 0.02
    torch.testing.assert_close(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    grid = grid_of_gaussians()
    assert grid.centers.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    x, k = ring.sample_with_modes(10_000, torch.Generator().manual_seed(0))
    dist = (x - ring.centers[k]).norm(dim=1)
    # |x - c| / std is chi with 2 dof: mean sqrt(pi/2)
    assert abs(dist.mean().item() / ring.std - math.sqrt(math.pi / 2)) < 0.03
    # log_prob integrates the right way: at a centre it is log(1/(K 2 pi std^2))
    torch.testing.assert_close(
        ring.log_prob(ring.centers[:1]).float(),
        torch.tensor([-math.log(8 * 2 * math.pi * 0.02**2)]),
        atol=1e-4,
        rtol=0,
    )


def test_swiss_roll_radius_range():
    x = swiss_roll(5000, noise=0.0, generator=torch.Generator().manual_seed(0))
    r = x.norm(dim=1) * 5  # radius equals t in [1.5 pi, 4.5 pi]
    assert r.min() >= 1.5 * math.pi - 1e-4 and r.max() <= 4.5 * math.pi + 1e-4
