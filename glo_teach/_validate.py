"""Input checks for the public API: say what was expected and what came."""

from __future__ import annotations

import math

import torch

from .data.constants import PIXEL_MAX, PIXEL_MIN


def check_tensor(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_images(
    x: object,
    name: str = "images",
    channels: int | None = None,
    size: int | None = None,
    check_range: bool = False,
) -> torch.Tensor:
    """A float batch (N, C, H, W); optionally with C, H = W = size and values in [-1, 1]."""
    x = check_tensor(x, name)
    if x.dim() != 4:
        raise ValueError(
            f"{name} must have shape (N, C, H, W), got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel(s), got {x.shape[1]} (shape {tuple(x.shape)})"
        )
    if size is not None and tuple(x.shape[2:]) != (size, size):
        raise ValueError(
            f"{name} must be {size}x{size} pixels, got {x.shape[2]}x{x.shape[3]}"
        )
    if check_range:
        lo, hi = x.min().item(), x.max().item()
        if not (lo >= PIXEL_MIN - 1e-3 and hi <= PIXEL_MAX + 1e-3):
            raise ValueError(
                f"{name} must lie in [{PIXEL_MIN:g}, {PIXEL_MAX:g}], got values in [{lo:.3g}, {hi:.3g}]"
            )
    return x


def check_same_shape(a: torch.Tensor, b: torch.Tensor, names: str = "inputs") -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_latent(z: object, dim: int | None = None, name: str = "z") -> torch.Tensor:
    """A float batch of codes (N, d); optionally with d == dim."""
    z = check_tensor(z, name)
    if z.dim() != 2:
        raise ValueError(f"{name} must have shape (N, d), got shape {tuple(z.shape)}")
    if dim is not None and z.shape[1] != dim:
        raise ValueError(f"{name} must have latent dimension {dim}, got {z.shape[1]}")
    if not z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {z.dtype}")
    return z


def check_positive_int(v: object, name: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return v


def check_positive_number(v: object, name: str) -> float:
    """A positive finite int or float (a learning rate, a step size), returned as a float."""
    if not (
        isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
        and v > 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    return float(v)


def check_labels(
    y: object, n: int, n_classes: int, name: str = "labels"
) -> torch.Tensor:
    """Class indices: an int64 tensor of shape (n,) with values in 0..n_classes-1."""
    y = check_tensor(y, name)
    if y.dtype != torch.long:
        raise TypeError(
            f"{name} must be an int64 (long) tensor of class indices, got {y.dtype}"
        )
    if y.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},), one label per sample, got {tuple(y.shape)}"
        )
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}, got values in {y.min().item()}..{y.max().item()}"
        )
    return y
