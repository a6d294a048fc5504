"""Keeping a critic (roughly) 1-Lipschitz: weight clipping, gradient penalty, spectral norm.

- :func:`clip_weights_` (WGAN, Arjovsky et al. 2017): clamp every parameter to [-c, c].
- :func:`gradient_penalty` (WGAN-GP, Gulrajani et al. 2017): penalise (||grad_x f(x_hat)|| - 1)^2
  at random interpolates x_hat between real and fake samples, one epsilon **per sample**.
- :func:`power_iteration`, :func:`spectral_norm`, :func:`apply_spectral_norm` (Miyato et al.
  2018): divide each weight by its largest singular value, estimated by one power-iteration step
  per training forward, so every linear map has Lipschitz constant ~ 1.
- :func:`conv_operator_norm`: the true operator norm of a convolution as a linear map, which the
  sigma of its reshaped (C_out, C_in k^2) weight does not bound (all-ones k x k kernel: reshaped
  sigma = k, operator norm -> k^2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from .._validate import check_positive_int, check_same_shape, check_tensor

__all__ = [
    "clip_weights_",
    "sample_eps",
    "interpolate",
    "gradient_penalty",
    "power_iteration",
    "spectral_norm",
    "apply_spectral_norm",
    "conv_operator_norm",
]

_NORM_EPS = 1e-12  # as torch's spectral_norm: guards the division in u / ||u||


def clip_weights_(module: nn.Module, c: float) -> nn.Module:
    """In place: w <- clamp(w, -c, c) for every parameter w of ``module`` (biases too).

    Every parameter in [-c, c] bounds the Lipschitz constant of the network by a constant
    that depends on c and the architecture (not by 1). Returns ``module``. Book: {eq}`wgan-clip`.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module, got {type(module).__name__}"
        )
    if not (isinstance(c, (int, float)) and c > 0):
        raise ValueError(f"c must be a positive number, got {c!r}")
    with torch.no_grad():
        for w in module.parameters():
            w.clamp_(-c, c)
    return module


def sample_eps(
    real: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One epsilon ~ U[0, 1] per sample: ``torch.rand((N, 1, ..., 1), generator=generator)``,
    shaped to broadcast against ``real`` (N, ...)."""
    real = check_tensor(real, "real")
    device = (
        real.device if generator is None else generator.device
    )  # draw where the generator lives
    eps = torch.rand(
        (real.shape[0],) + (1,) * (real.dim() - 1),
        generator=generator,
        dtype=real.dtype,
        device=device,
    )
    return eps.to(real.device)  # (N, 1, ..., 1)


def interpolate(
    real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """x_hat = eps * x + (1 - eps) * x_fake, detached from both (a new leaf). Book: {eq}`wgan-gp-interpolate`."""
    check_same_shape(real, fake, "real, fake")
    if eps.shape != (real.shape[0],) + (1,) * (real.dim() - 1):
        raise ValueError(
            f"eps must have shape {(real.shape[0],) + (1,) * (real.dim() - 1)} (one per sample), "
            f"got {tuple(eps.shape)}"
        )
    return eps * real.detach() + (1 - eps) * fake.detach()  # (N, ...)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    center: float = 1.0,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP penalty at random interpolates (add lambda times it to the critic's loss).

    GP = (1/N) sum_i (||grad_x f(x_hat_i)||_2 - center)^2,   x_hat_i = eps_i x_i + (1 - eps_i) x_fake_i,

    with one eps_i ~ U[0, 1] per sample (:func:`sample_eps`, seeded by ``generator``; or pass
    ``eps`` of shape (N, 1, ..., 1) yourself). The gradient is taken at the interpolates -- not
    at the real points -- with ``create_graph=True`` so that GP can be backpropagated into the
    critic's parameters. ``real`` and ``fake`` (N, ...) are detached; the critic must treat
    samples independently (no BatchNorm), as the penalty is defined per sample.
    ``center=0`` gives the zero-centred penalty. Book: {eq}`wgan-gp`.
    """
    real, fake = check_tensor(real, "real"), check_tensor(fake, "fake")
    check_same_shape(real, fake, "real, fake")
    if real.dim() < 2 or real.shape[0] == 0:
        raise ValueError(
            f"real must have shape (N, ...) with N >= 1 and at least one feature dim, got {tuple(real.shape)}"
        )
    if eps is None:
        eps = sample_eps(real, generator)
    x_hat = interpolate(real, fake, eps).requires_grad_(True)  # (N, ...)
    scores = critic(x_hat)  # (N,) or (N, 1)
    if scores.shape[0] != real.shape[0] or scores.numel() != real.shape[0]:
        raise ValueError(
            f"critic must return one score per sample, got shape {tuple(scores.shape)} for N = {real.shape[0]}"
        )
    # samples are independent, so d(sum of scores)/d x_hat_i = grad_x f(x_hat_i)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (N, ...)
    grad_norm = grad.flatten(1).norm(2, dim=1)  # (N, ...) -> (N, D) -> (N,)
    return ((grad_norm - center) ** 2).mean()


def power_iteration(
    W: torch.Tensor,
    n_iters: int,
    u: torch.Tensor | None = None,
    v: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Largest singular value sigma(W) of W reshaped to (out, -1), by power iteration.

    From a unit u (random if None) and v = W^T u / ||W^T u|| (unless ``v`` is given), repeat
    ``n_iters`` times

        u <- W v / ||W v||,    v <- W^T u / ||W^T u||,

    and return (sigma, u, v) with sigma = u^T W v (<= sigma(W), converging to it at the rate
    (sigma_2 / sigma_1)^(2 n)). This is torch's order of updates, so a layer that stores (u, v)
    continues exactly where torch's ``spectral_norm`` would. No gradient flows through u and v;
    sigma is differentiable w.r.t. W. Book: {eq}`sn-power-iteration`.
    """
    W = check_tensor(W, "W")
    if W.dim() < 2 or W.numel() == 0:
        raise ValueError(
            f"W must be a non-empty tensor with at least 2 dims (out, in, ...), got shape {tuple(W.shape)}"
        )
    if not W.is_floating_point():
        raise TypeError(f"W must be a floating-point tensor, got {W.dtype}")
    if not isinstance(n_iters, int) or isinstance(n_iters, bool) or n_iters < 0:
        raise ValueError(f"n_iters must be a non-negative int, got {n_iters!r}")
    W_mat = W.reshape(W.shape[0], -1)  # (out, in, k, k) -> (out, in*k*k)
    with torch.no_grad():
        if u is None:
            u = torch.randn(W_mat.shape[0], generator=generator, dtype=W.dtype).to(
                W.device
            )
        u = F.normalize(u.detach(), dim=0, eps=_NORM_EPS)  # (out,)
        v = F.normalize(
            W_mat.T @ u if v is None else v.detach(), dim=0, eps=_NORM_EPS
        )  # (in*k*k,)
        for _ in range(n_iters):
            u = F.normalize(W_mat @ v, dim=0, eps=_NORM_EPS)
            v = F.normalize(W_mat.T @ u, dim=0, eps=_NORM_EPS)
    sigma = torch.dot(u, W_mat @ v)
    return sigma, u, v


class _SpectralNorm(nn.Module):
    """Parametrization W -> W / sigma(W) with persistent power-iteration vectors u, v."""

    def __init__(self, weight: torch.Tensor, n_power_iterations: int, dim: int):
        super().__init__()
        self.n_power_iterations, self.dim = n_power_iterations, dim
        _, u, v = power_iteration(self._matrix(weight), 15)  # warm start, as torch does
        self.register_buffer("u", u)  # (out,)
        self.register_buffer("v", v)  # (in*k*k,)

    def _matrix(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.movedim(self.dim, 0)  # output dim first (dim 1 for ConvTranspose)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        W = self._matrix(weight)
        if (
            self.training
        ):  # one (or more) power-iteration steps per forward, vectors kept
            _, u, v = power_iteration(
                W.detach(), self.n_power_iterations, self.u, self.v
            )
            self.u.copy_(u)
            self.v.copy_(v)
        W_mat = W.reshape(W.shape[0], -1)  # (out, in*k*k)
        sigma = torch.dot(
            self.u.clone(), W_mat @ self.v.clone()
        )  # u^T W v: gradient through W only
        return weight / sigma


_SN_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def spectral_norm(
    module: nn.Module, n_power_iterations: int = 1, name: str = "weight"
) -> nn.Module:
    """Reparametrise ``module.<name>`` as W_SN = W / sigma(W) (in place; returns ``module``).

    sigma(W) is estimated by :func:`power_iteration` on W reshaped to (out, -1) (for
    ConvTranspose the output channels are dim 1 and are moved first): ``n_power_iterations``
    steps at each forward in training mode, none in eval mode; u and v are buffers saved in the
    state dict, and no gradient flows through them. Same semantics as
    ``torch.nn.utils.parametrizations.spectral_norm``. Book: {eq}`sn-weight`.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module, got {type(module).__name__}"
        )
    check_positive_int(n_power_iterations, "n_power_iterations")
    weight = getattr(module, name, None)
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        raise ValueError(
            f"module.{name} must be a weight tensor with >= 2 dims, got {type(weight).__name__}"
            + (
                f" of shape {tuple(weight.shape)}"
                if isinstance(weight, torch.Tensor)
                else ""
            )
        )
    dim = (
        1
        if isinstance(
            module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
        )
        else 0
    )
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight.detach(), n_power_iterations, dim)
    )
    return module


def apply_spectral_norm(net: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """:func:`spectral_norm` on the weight of every Linear / Conv / ConvTranspose layer of ``net``
    not already parametrised (in place; returns ``net``). Book: {eq}`sn-weight`."""
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    for m in list(net.modules()):
        if isinstance(m, _SN_LAYERS) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m, n_power_iterations)
    return net


def conv_operator_norm(
    weight: torch.Tensor,
    input_shape: tuple[int, ...],
    stride: int = 1,
    padding: int = 0,
    transposed: bool = False,
    iters: int = 200,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Operator norm ||A||_2 = max_x ||A x|| / ||x|| of the convolution A: x -> conv2d(x, weight)
    (or conv_transpose2d if ``transposed``) on inputs of shape ``input_shape`` = (C_in, H, W).

    Power iteration on A^T A, x <- A^T A x / ||A^T A x||, with the adjoint A^T of conv2d being
    conv_transpose2d with the same weight, stride and padding (and the output_padding that
    restores the input size), and vice versa; returns sigma = ||A x|| for the final unit x (a
    lower bound that converges to ||A||_2). This is the Lipschitz constant of the layer, which the
    reshaped-weight sigma {eq}`sn-sigma` used by spectral normalisation does not bound:
    for one channel and an all-ones k x k kernel the reshaped sigma is k, the operator norm tends
    to the DC gain k^2 on large inputs. Book: {eq}`sn-sigma`.
    """
    weight = check_tensor(weight, "weight")
    if weight.dim() != 4 or not weight.is_floating_point():
        raise ValueError(
            f"weight must be a floating-point 4-d conv weight, got shape {tuple(weight.shape)}"
        )
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C_in, H, W), got {input_shape!r}")
    check_positive_int(iters, "iters")
    weight = weight.detach()
    c_in = weight.shape[0] if transposed else weight.shape[1]
    if input_shape[0] != c_in:
        raise ValueError(
            f"input_shape has {input_shape[0]} channels, the weight expects {c_in}"
        )
    k_h, k_w = weight.shape[-2:]
    H, W = input_shape[1:]

    def fwd_conv(x):
        return F.conv2d(x, weight, stride=stride, padding=padding)

    def adj_conv(y, size):  # adjoint of conv2d onto inputs of spatial size `size`
        out_pad = [
            size[i] - ((y.shape[2 + i] - 1) * stride - 2 * padding + (k_h, k_w)[i])
            for i in range(2)
        ]
        return F.conv_transpose2d(
            y, weight, stride=stride, padding=padding, output_padding=tuple(out_pad)
        )

    if transposed:
        A = lambda x: F.conv_transpose2d(x, weight, stride=stride, padding=padding)  # noqa: E731
        At = fwd_conv  # conv2d is the adjoint of conv_transpose2d (output spatial size = H, W)
    else:
        A = fwd_conv
        At = lambda y: adj_conv(y, (H, W))  # noqa: E731
    with torch.no_grad():
        x = torch.randn(1, *input_shape, generator=generator, dtype=weight.dtype).to(
            weight.device
        )
        x = x / x.norm()
        for _ in range(iters):
            x = At(A(x))
            x = x / x.norm().clamp_min(_NORM_EPS)
        return A(x).norm()
