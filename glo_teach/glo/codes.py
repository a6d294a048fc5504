"""Learnable latent codes: one z_i per training image, kept in the unit l2 ball.

GLO (Bojanowski et al. 2017, Sec. 2) pairs every image x_i with a free code z_i and learns both
z and the generator by SGD. After every update each code is projected back onto the unit ball,
z <- z / max(||z||_2, 1) (the paper's rule; :func:`project_to_ball`). Much public GLO code
projects onto the unit *sphere* instead, z <- z / ||z||_2 (:func:`project_to_sphere`); the two
agree for codes outside the ball and differ for codes inside it, which the ball leaves alone.

The codes are one dense (n, d) parameter on the training device. A step touches only the rows of
the batch: :meth:`LatentCodes.batch` hands out a detached copy of those rows that requires grad,
and :meth:`LatentCodes.sgd_step` applies z_i <- P(z_i - lr_z * grad_i) to those rows alone
(plain SGD, no momentum, no weight decay, so no other row can change). This costs O(B d) per
step instead of the O(n d) of a dense gradient.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import check_latent, check_positive_int, check_tensor

__all__ = [
    "LatentCodes",
    "project_to_ball",
    "project_to_sphere",
    "pca_codes",
    "PROJECTIONS",
]

PROJECTIONS = ("ball", "sphere")
INITS = ("gaussian", "pca")


def project_to_ball(z: torch.Tensor) -> torch.Tensor:
    """z / max(||z||_2, 1), row by row: the nearest point of the unit l2 ball. Book: {eq}`glo-projection`."""
    check_latent(z)
    return z / z.norm(dim=1, keepdim=True).clamp(min=1.0)


def project_to_sphere(z: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """z / ||z||_2, row by row (norm clamped below at ``eps``): the unit sphere. Book: {eq}`glo-projection`."""
    check_latent(z)
    return z / z.norm(dim=1, keepdim=True).clamp(min=eps)


def _project(z: torch.Tensor, projection: str) -> torch.Tensor:
    return project_to_ball(z) if projection == "ball" else project_to_sphere(z)


def pca_codes(data: torch.Tensor, dim: int) -> torch.Tensor:
    """Top-``dim`` principal-component coefficients of the flattened data, scaled into the unit ball.

    z_i = U_d^T (x_i - mean) / s with U_d the top-d right singular vectors of the centred data
    matrix (n, P) and s = max_j ||U_d^T (x_j - mean)||_2: one global scale, so the largest code has
    norm 1 and the geometry between codes (the PCA solution up to scale) is kept. Each column's
    sign is fixed so its largest-magnitude entry is positive (SVD signs are arbitrary).
    Book: {eq}`pca-linear-ae`.
    """
    check_tensor(data, "data")
    check_positive_int(dim, "dim")
    x = data.reshape(len(data), -1).double()  # (n, C, H, W) -> (n, P)
    if dim > min(x.shape):
        raise ValueError(
            f"PCA init needs dim <= min(n, pixels) = {min(x.shape)}, got dim = {dim}"
        )
    x = x - x.mean(0)
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    z = u[:, :dim] * s[:dim]  # (n, d) = X_c V_d, the principal-component coefficients
    z = z * torch.sign(z.gather(0, z.abs().argmax(0, keepdim=True)))
    return (z / z.norm(dim=1).max().clamp(min=1e-12)).to(
        data.dtype if data.is_floating_point() else torch.float32
    )


def code_matrix(codes: LatentCodes | torch.Tensor, name: str = "codes") -> torch.Tensor:
    """The codes as a detached (n, d) tensor: a :class:`LatentCodes`' weight, or a checked tensor."""
    return (
        codes.weight.detach()
        if isinstance(codes, LatentCodes)
        else check_latent(codes, name=name)
    )


class LatentCodes(nn.Module):
    """n learnable codes z_i in R^d, looked up by image index; ``weight`` has shape (n, d).

    init="gaussian": z_i ~ N(0, I_d), then projected (for d >= 3 nearly all land on the sphere,
    since ||z_i|| is about sqrt(d)). init="pca": :func:`pca_codes` of ``data`` (n images in the
    order of the indices). ``projection``: "ball" (the paper) or "sphere". Book: {eq}`glo-objective`.
    """

    def __init__(
        self,
        n: int,
        dim: int,
        init: str = "gaussian",
        data: torch.Tensor | None = None,
        projection: str = "ball",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        check_positive_int(n, "n")
        check_positive_int(dim, "dim")
        if projection not in PROJECTIONS:
            raise ValueError(
                f"projection must be one of {PROJECTIONS}, got {projection!r}"
            )
        if init == "gaussian":
            z = torch.randn(n, dim, generator=generator)
        elif init == "pca":
            if data is None or len(data) != n:
                raise ValueError(
                    f"init='pca' needs data with n = {n} images, got "
                    f"{'None' if data is None else len(data)}"
                )
            z = pca_codes(data.detach().cpu().float(), dim).float()
        else:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.projection = projection
        self.weight = nn.Parameter(_project(z, projection))

    @property
    def n(self) -> int:
        return self.weight.shape[0]

    @property
    def dim(self) -> int:
        return self.weight.shape[1]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """z[idx], shape (B, d), differentiable with respect to ``weight`` (a dense gradient)."""
        return self.weight[self._check_idx(idx)]

    def batch(self, idx: torch.Tensor) -> torch.Tensor:
        """A detached copy of z[idx] (B, d) that requires grad: the leaf one SGD step updates."""
        return self.weight.detach()[self._check_idx(idx)].requires_grad_(True)

    @torch.no_grad()
    def sgd_step(
        self, idx: torch.Tensor, grad: torch.Tensor, lr: float
    ) -> torch.Tensor:
        """z_i <- P(z_i - lr * grad_i) for i in ``idx`` only; returns the new rows (B, d).

        A repeated index receives the sum of its gradients, as for a dense parameter.
        P is the projection chosen at construction. Book: {eq}`glo-projection`.
        """
        idx = self._check_idx(idx)
        check_latent(grad, self.dim, "grad")
        if len(grad) != len(idx):
            raise ValueError(
                f"grad must have one row per index ({len(idx)}), got {len(grad)}"
            )
        self.weight.index_add_(0, idx, grad.to(self.weight.dtype), alpha=-lr)
        z = _project(self.weight[idx], self.projection)
        self.weight[idx] = z
        return z

    @torch.no_grad()
    def project_(self) -> None:
        """Project every code (after editing ``weight`` by hand)."""
        self.weight.copy_(_project(self.weight, self.projection))

    def _check_idx(self, idx: torch.Tensor) -> torch.Tensor:
        check_tensor(idx, "idx")
        if idx.dim() != 1 or idx.dtype not in (torch.int64, torch.int32):
            raise TypeError(
                f"idx must be a 1-D integer tensor, got shape {tuple(idx.shape)} and {idx.dtype}"
            )
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n):
            raise ValueError(
                f"idx must lie in [0, {self.n}), got values in [{idx.min().item()}, {idx.max().item()}]"
            )
        return idx.to(self.weight.device)

    def extra_repr(self) -> str:
        return f"n={self.n}, dim={self.dim}, projection={self.projection!r}"
