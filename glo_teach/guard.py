"""Divergence guard: a NaN, an infinity or an exploding tensor stops training at once.

Training that diverges silently produces NaN image grids and wasted hours. Each loop calls
:func:`check_finite` on its losses every step and :func:`check_bounded` on its parameters and
codes, so a divergence is caught within one step with an error that names the likely cause.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

__all__ = ["DivergenceError", "check_finite", "check_bounded"]

MAX_ABS = 1e4  # no weight or code of a sane DCGAN/GLO run comes near this


class DivergenceError(RuntimeError):
    """Training produced a non-finite or exploding value."""


def check_finite(step: int, hint: str = "", **values: torch.Tensor | float) -> None:
    """Raise :class:`DivergenceError` if any named value is NaN or infinite."""
    for name, v in values.items():
        t = torch.as_tensor(v)
        if not torch.isfinite(t).all():
            raise DivergenceError(
                f"{name} became {t.detach().flatten()[0].item() if t.numel() == 1 else 'non-finite'} "
                f"at step {step}; the likely cause is a learning rate that is too large"
                + (f" ({hint})" if hint else "")
            )


def check_bounded(step: int, tensors: Iterable[tuple[str, torch.Tensor]], hint: str = "", max_abs: float = MAX_ABS) -> None:
    """Raise :class:`DivergenceError` if any tensor is non-finite or exceeds ``max_abs`` in size."""
    for name, t in tensors:
        t = t.detach()
        biggest = t.abs().max().item() if t.numel() else 0.0
        if not (biggest <= max_abs):  # also catches NaN
            raise DivergenceError(
                f"{name} reached |value| = {biggest:.3g} at step {step} (limit {max_abs:g}); "
                "training is diverging, most likely because a learning rate is too large"
                + (f" ({hint})" if hint else "")
            )
