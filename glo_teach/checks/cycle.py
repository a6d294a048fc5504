"""Check for chapter 5: CycleGAN's cycle-consistency loss in both directions.

``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed random
inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..gan.cyclegan import cycle_consistency_loss
from ._core import diagnose, seeded, student_check

__all__ = ["check_cycle_loss"]

F64 = torch.float64


def _conv(seed: int, shift: float) -> nn.Module:
    """A fixed random 3x3 convolution (N, 1, H, W) -> (N, 1, H, W), standing in for a generator."""
    with seeded(seed):
        conv = nn.Conv2d(1, 1, 3, padding=1).double()
    with torch.no_grad():
        conv.bias.fill_(shift)
    return conv.requires_grad_(False)


def _reference(G, F, x, y):
    return cycle_consistency_loss(x, F(G(x))) + cycle_consistency_loss(y, G(F(y)))


@student_check
def check_cycle_loss(fn: Callable) -> str:
    """fn(G, F, x, y) must return L_cyc = mean |F(G(x)) - x| + mean |G(F(y)) - y|, each an L1 error
    averaged over the batch *and* the d pixels of an image (the paper's code). Compared with
    :func:`glo_teach.gan.cyclegan.cycle_consistency_loss` applied to both cycles. Book: {eq}`cyclegan-cycle`."""
    g = torch.Generator().manual_seed(24)
    G, F = _conv(1, 0.3), _conv(2, -0.2)
    cases = [
        (
            "G, F = two 3x3 convolutions, x and y of shape (6, 1, 8, 8)",
            (
                G,
                F,
                torch.randn(6, 1, 8, 8, generator=g, dtype=F64),
                torch.randn(6, 1, 8, 8, generator=g, dtype=F64),
            ),
        ),
        (
            "x of shape (3, 1, 5, 5), y of shape (4, 1, 5, 5)",
            (
                G,
                F,
                torch.randn(3, 1, 5, 5, generator=g, dtype=F64),
                torch.randn(4, 1, 5, 5, generator=g, dtype=F64),
            ),
        ),
    ]
    return diagnose(
        fn,
        _reference,
        cases,
        [
            (
                "the cycle loss is an L1 error (mean absolute difference), not a squared one",
                lambda G, F, x, y: (
                    ((F(G(x)) - x) ** 2).mean() + ((G(F(y)) - y) ** 2).mean()
                ),
            ),
            (
                "only the X cycle x -> G(x) -> F(G(x)); the loss has both cycles, y -> F(y) -> G(F(y)) too",
                lambda G, F, x, y: cycle_consistency_loss(x, F(G(x))),
            ),
            (
                "the order of the maps: x goes to domain Y through G first and comes back through F",
                lambda G, F, x, y: (
                    cycle_consistency_loss(x, G(F(x)))
                    + cycle_consistency_loss(y, F(G(y)))
                ),
            ),
            (
                "||.||_1 summed over the pixels of an image: the book (like the paper's code) divides by the d pixels, "
                "so that lambda_cyc = 10 weighs it as in the paper",
                lambda G, F, x, y: (
                    (F(G(x)) - x).abs().flatten(1).sum(1).mean()
                    + (G(F(y)) - y).abs().flatten(1).sum(1).mean()
                ),
            ),
            (
                "you compare the translation with the input (G(x) with x); the cycle compares the round trip F(G(x)) with x",
                lambda G, F, x, y: (
                    cycle_consistency_loss(x, G(x)) + cycle_consistency_loss(y, F(y))
                ),
            ),
        ],
    )
