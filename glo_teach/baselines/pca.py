"""PCA as a generative baseline: the optimal linear autoencoder with d components.

For centred data X_c = X - mu (n, P) the best rank-d linear autoencoder under squared error,
min_{W_e, W_d} ||X_c - X_c W_e W_d||_F^2, reconstructs with the projection onto the top-d right
singular vectors V_d (Baldi & Hornik 1989; GLO Sec. 4.1):

    encode(x) = V_d^T (x - mu)        (d,)
    decode(z) = mu + V_d z            (P,), reshaped to the image shape.
"""

from __future__ import annotations

import torch

from .._validate import check_images, check_latent, check_positive_int

__all__ = ["PCA"]


class PCA:
    """Fit with :meth:`fit` on training images (N, C, H, W); ``components`` (d, P), ``mean`` (P,).

    Book: {eq}`pca-linear-ae`.
    """

    def __init__(self, dim: int):
        self.dim = check_positive_int(dim, "dim")
        self.mean: torch.Tensor | None = None
        self.components: torch.Tensor | None = (
            None  # rows are V_d^T, largest variance first
        )
        self.explained_variance: torch.Tensor | None = None  # S_j^2 / n, shape (d,)
        self.image_shape: tuple[int, ...] | None = None

    def fit(self, images: torch.Tensor) -> "PCA":
        """mu = mean image, V_d = top-d right singular vectors of the centred data (float64 SVD)."""
        check_images(images, "images")
        x = images.reshape(len(images), -1).double()  # (N, C, H, W) -> (N, P)
        if self.dim > min(x.shape):
            raise ValueError(
                f"PCA with {self.dim} components needs at least that many images and pixels, "
                f"got {tuple(x.shape)}"
            )
        self.mean = x.mean(0)
        _, s, vh = torch.linalg.svd(x - self.mean, full_matrices=False)
        self.components = vh[: self.dim]
        self.explained_variance = s[: self.dim] ** 2 / len(x)
        self.image_shape = tuple(images.shape[1:])
        return self

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """z = V_d^T (x - mu), shape (N, d), in the images' dtype."""
        self._check_fitted()
        check_images(images, "images")
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                f"images must have shape (N, {self.image_shape}), got {tuple(images.shape)}"
            )
        x = images.reshape(len(images), -1).double()
        return ((x - self.mean.to(x.device)) @ self.components.to(x.device).T).to(
            images.dtype
        )

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x = mu + V_d z, shape (N, C, H, W) (not clipped to the pixel range)."""
        self._check_fitted()
        check_latent(z, self.dim)
        x = self.mean.to(z.device) + z.double() @ self.components.to(
            z.device
        )  # (N, d) -> (N, P)
        return x.to(z.dtype).reshape(len(z), *self.image_shape)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """decode(encode(x)): the orthogonal projection of x - mu onto span(V_d), plus mu."""
        return self.decode(self.encode(images))

    def _check_fitted(self) -> None:
        if self.components is None:
            raise RuntimeError("PCA is not fitted: call fit(images) first")
