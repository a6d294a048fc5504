"""Check for chapter 4: the WGAN critic's loss, whose negation estimates W1.

``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed random
inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..gan.losses import discriminator_loss, wgan_critic_loss
from ._core import diagnose, student_check
from .gan import _logit_cases

__all__ = ["check_wgan_critic_loss"]


@student_check
def check_wgan_critic_loss(fn: Callable) -> str:
    """fn(real_scores, fake_scores) must return L_f = mean f(G(z)) - mean f(x), each mean over its
    own batch, a scalar; -L_f is the critic's W1 estimate. Compared with
    :func:`glo_teach.gan.losses.wgan_critic_loss`. Book: {eq}`wgan-critic`."""
    return diagnose(
        fn,
        wgan_critic_loss,
        _logit_cases(22),
        [
            (
                "that is the W1 estimate mean f(x) - mean f(G(z)), which the critic *maximises*; "
                "a gradient-descent step needs the loss, its negation",
                lambda r, f: -wgan_critic_loss(r, f),
            ),
            (
                "the critic's scores are not probabilities: the WGAN loss is linear in the scores, with no sigmoid",
                lambda r, f: wgan_critic_loss(torch.sigmoid(r), torch.sigmoid(f)),
            ),
            (
                "that is the GAN's cross-entropy loss; the WGAN critic loss has no log and no sigmoid",
                discriminator_loss,
            ),
            (
                "you take one mean over real and fake scores pooled; average each batch on its own",
                lambda r, f: torch.cat([-r.flatten(), f.flatten()]).mean(),
            ),
            (
                "you sum over the batch; average instead (the two batches may have different sizes)",
                lambda r, f: f.sum() - r.sum(),
            ),
        ],
    )
