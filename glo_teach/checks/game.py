"""Check for chapter 2: the discriminator's loss in the GAN game, from logits.

``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed random
inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..gan.losses import discriminator_loss
from ..gan.value import minimax_value
from ._core import diagnose, expect_case, student_check
from .gan import _LOGSIGMOID_HINT, _logit_cases

__all__ = ["check_discriminator_loss"]


@student_check
def check_discriminator_loss(fn: Callable) -> str:
    """fn(real_logits, fake_logits) must return L_D = -mean log D(x) - mean log(1 - D(G(z))),
    D = sigmoid(logit), each mean over its own batch, a scalar (= mean softplus(-real) + mean
    softplus(fake)). Compared with :func:`glo_teach.gan.losses.discriminator_loss`. Book: {eq}`gan-d-loss`."""
    ok = diagnose(
        fn,
        discriminator_loss,
        _logit_cases(20),
        [
            (
                "that is the value V that D *maximises*; the loss a gradient-descent step minimises is its negation",
                minimax_value,
            ),
            (
                "the fakes are labelled 0: their term is -log(1 - D(G(z))), not -log D(G(z))",
                lambda r, f: discriminator_loss(r, -f),
            ),
            (
                "the labels are swapped: real images are labelled 1 (-log D(x)), fakes 0 (-log(1 - D(G(z))))",
                lambda r, f: discriminator_loss(-r, -f),
            ),
            (
                "you sum over the batch; average instead (the two batches may have different sizes)",
                lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
            ),
            (
                "you take one mean over real and fake logits pooled; average each term over its own batch",
                lambda r, f: torch.cat(
                    [F.softplus(-r).flatten(), F.softplus(f).flatten()]
                ).mean(),
            ),
        ],
    )
    big = torch.tensor([100.0, -100.0], dtype=torch.float64)
    expect_case(
        fn,
        discriminator_loss,
        (big, -big),
        f"not finite (or wrong) for logits of +-100: {_LOGSIGMOID_HINT}",
    )
    return ok + ", and stays finite for logits of +-100"
