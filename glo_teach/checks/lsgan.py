"""Check for chapters 4-5: the least-squares (LSGAN) discriminator loss that CycleGAN plays.

``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed random
inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..gan.losses import lsgan_discriminator_loss
from ._core import diagnose, student_check
from .gan import _logit_cases

__all__ = ["check_lsgan_discriminator_loss"]


@student_check
def check_lsgan_discriminator_loss(fn: Callable) -> str:
    """fn(real_scores, fake_scores) must return L_D = 1/2 mean (D(x) - 1)^2 + 1/2 mean D(G(z))^2 on raw
    scores (targets b = 1 for real, a = 0 for fake), each mean over its own batch. Compared with
    :func:`glo_teach.gan.losses.lsgan_discriminator_loss`. Book: {eq}`lsgan-loss`."""
    return diagnose(
        fn,
        lsgan_discriminator_loss,
        _logit_cases(23),
        [
            (
                "the targets are swapped: real scores are pulled to b = 1, fake scores to a = 0",
                lambda r, f: lsgan_discriminator_loss(r, f, a=1.0, b=0.0),
            ),
            (
                "LSGAN works on the raw scores: no sigmoid before the squares (a sigmoid saturates them again)",
                lambda r, f: lsgan_discriminator_loss(
                    torch.sigmoid(r), torch.sigmoid(f)
                ),
            ),
            (
                "that is the generator's target for the fakes (c = 1); the discriminator pulls fake scores to a = 0",
                lambda r, f: lsgan_discriminator_loss(r, f, a=1.0, b=1.0),
            ),
            (
                "you take one mean over real and fake squares pooled; average each batch on its own",
                lambda r, f: (
                    0.5 * torch.cat([((r - 1) ** 2).flatten(), (f**2).flatten()]).mean()
                ),
            ),
            (
                "you sum over the batch; average instead (the two batches may have different sizes)",
                lambda r, f: 0.5 * ((r - 1) ** 2).sum() + 0.5 * (f**2).sum(),
            ),
        ],
    )
