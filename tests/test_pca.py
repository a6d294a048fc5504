"""The PCA baseline, the optimal linear autoencoder, Book: {eq}`pca-linear-ae`."""

import numpy as np
import pytest
import scipy.linalg
import torch

from glo_teach.baselines import PCA


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    x = (
        rng.normal(size=(n, 1, 4, 4)) * np.linspace(1.5, 0.05, 16).reshape(1, 1, 4, 4)
        + 0.2
    )
    return torch.tensor(x, dtype=torch.float64)


def test_components_are_the_top_principal_subspace():
    """pca-linear-ae: V_d spans the top-d eigenvectors of the sample covariance (oracle: numpy eigh)."""
    x = _data()
    pca = PCA(4).fit(x)
    flat = x.reshape(len(x), -1).numpy()
    evals, evecs = np.linalg.eigh(np.cov(flat, rowvar=False, bias=True))
    top = evecs[:, ::-1][:, :4]
    assert np.max(scipy.linalg.subspace_angles(pca.components.T.numpy(), top)) < 1e-8
    assert np.allclose(pca.explained_variance.numpy(), evals[::-1][:4], atol=1e-10)
    assert np.allclose(
        pca.components.numpy() @ pca.components.numpy().T, np.eye(4), atol=1e-10
    )


def test_reconstruction_error_is_the_discarded_variance():
    """Eckart-Young: ||X_c - recon||_F^2 / n = sum of the eigenvalues beyond the d-th."""
    x = _data()
    pca = PCA(4).fit(x)
    err = ((pca.reconstruct(x) - x) ** 2).sum().item() / len(x)
    evals = np.linalg.eigvalsh(
        np.cov(x.reshape(len(x), -1).numpy(), rowvar=False, bias=True)
    )[::-1]
    assert abs(err - evals[4:].sum()) < 1e-9


def test_encode_decode_shapes_and_projection():
    """decode(encode(x)) is a projection: applying it twice changes nothing."""
    x = _data().float()
    pca = PCA(3).fit(x)
    z = pca.encode(x)
    assert z.shape == (80, 3) and z.dtype == torch.float32
    r = pca.decode(z)
    assert r.shape == x.shape
    assert torch.allclose(pca.reconstruct(r), r, atol=1e-5)


def test_bad_inputs():
    """Validation: unfitted, too many components, wrong shapes."""
    with pytest.raises(RuntimeError, match="not fitted"):
        PCA(2).encode(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="components"):
        PCA(20).fit(torch.zeros(10, 1, 2, 2))
    pca = PCA(2).fit(_data().float())
    with pytest.raises(ValueError, match="shape"):
        pca.encode(torch.zeros(3, 1, 8, 8))
    with pytest.raises(ValueError, match="latent dimension 2"):
        pca.decode(torch.zeros(3, 5))
