"""Walking the latent space: interpolation, arithmetic and principal directions (GLO Sec. 4.2).

- :func:`interpolate`: the straight line z(t) = (1 - t) z_a + t z_b (Figs. 1 and 2).
- :func:`arithmetic`: mean(A) - mean(B) + mean(C) of three groups of codes (Fig. 3: man with
  sunglasses - man + woman = woman with sunglasses).
- :func:`principal_directions` and :func:`traversal`: PCA of the centred codes and the images
  g(mu + s sigma_k u_k) along each principal vector u_k from the mean code mu (Fig. 6).
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import check_latent, check_positive_int, check_same_shape
from ..nets import eval_mode
from .codes import LatentCodes, code_matrix

__all__ = ["interpolate", "arithmetic", "principal_directions", "traversal"]


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """z(t_s) = (1 - t_s) z_a + t_s z_b, t_s = s / (steps - 1), s = 0..steps-1; endpoints included.

    z_a, z_b: shape (d,) -> (steps, d), or (N, d) -> (steps, N, d). Book: {eq}`glo-interpolation`.
    """
    if not isinstance(z_a, torch.Tensor) or not isinstance(z_b, torch.Tensor):
        raise TypeError(
            f"z_a and z_b must be tensors, got {type(z_a).__name__} and {type(z_b).__name__}"
        )
    check_same_shape(z_a, z_b, "z_a and z_b")
    if z_a.dim() not in (1, 2):
        raise ValueError(f"z_a must have shape (d,) or (N, d), got {tuple(z_a.shape)}")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2 (both endpoints), got {steps!r}")
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype, device=z_a.device).view(
        -1, *[1] * z_a.dim()
    )
    return (1 - t) * z_a + t * z_b


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean_i a_i - mean_i b_i + mean_i c_i for three groups of codes (N_a, d), (N_b, d), (N_c, d); shape (d,).

    Book: {eq}`glo-arithmetic`.
    """
    a, b, c = (check_latent(v, name=n) for v, n in ((a, "a"), (b, "b"), (c, "c")))
    if not a.shape[1] == b.shape[1] == c.shape[1]:
        raise ValueError(
            f"a, b, c must share the latent dimension, got {a.shape[1]}, {b.shape[1]}, {c.shape[1]}"
        )
    return a.mean(0) - b.mean(0) + c.mean(0)


def principal_directions(
    codes: LatentCodes | torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mu, U_k, sigma_k): mean code (d,), top-k principal vectors as rows (k, d), their std devs (k,).

    With Z_c = Z - mu (n, d) and the SVD Z_c = U S V^T: u_j = V[:, j], sigma_j = S_j / sqrt(n)
    (the square root of the j-th eigenvalue of the covariance (1/n) Z_c^T Z_c), largest first.
    Each u_j's sign is fixed so its largest-magnitude entry is positive. Book: {eq}`glo-principal`.
    """
    z = code_matrix(codes)
    check_positive_int(k, "k")
    if k > min(z.shape):
        raise ValueError(f"k must be at most min(n, d) = {min(z.shape)}, got {k}")
    z64 = z.double()
    mu = z64.mean(0)
    _, s, vh = torch.linalg.svd(z64 - mu, full_matrices=False)
    u = vh[:k]  # (k, d)
    u = u * torch.sign(u.gather(1, u.abs().argmax(1, keepdim=True)))
    return mu.to(z.dtype), u.to(z.dtype), (s[:k] / len(z) ** 0.5).to(z.dtype)


@torch.no_grad()
def traversal(
    generator: nn.Module,
    codes: LatentCodes | torch.Tensor,
    k: int = 4,
    n_steps: int = 7,
    scale: float = 2.0,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Images g(z_0 + s sigma_j u_j) for j < k and s on linspace(-scale, scale, n_steps); (k, n_steps, C, H, W).

    The paper's Fig. 6: from z_0 = mu, the mean code, along each principal vector u_j (standard
    deviation sigma_j) of the centred codes; ``start`` (d,) walks from another code instead, e.g. a
    training image's (the middle column is g(z_0) when n_steps is odd). Generator in eval mode.
    Book: {eq}`glo-principal`.
    """
    check_positive_int(n_steps, "n_steps")
    mu, u, sigma = principal_directions(codes, k)
    if start is not None:
        start = torch.as_tensor(start, dtype=mu.dtype, device=mu.device)
        if start.shape != mu.shape:
            raise ValueError(
                f"start must be one code of shape {tuple(mu.shape)}, got {tuple(start.shape)}"
            )
        mu = start
    s = torch.linspace(-scale, scale, n_steps, dtype=mu.dtype, device=mu.device)
    z = mu + s[None, :, None] * (sigma[:, None] * u)[:, None, :]  # (k, n_steps, d)
    with eval_mode(generator):
        x = generator(
            z.reshape(k * n_steps, -1)
        )  # (k * n_steps, d) -> (k * n_steps, C, H, W)
    return x.reshape(k, n_steps, *x.shape[1:])
