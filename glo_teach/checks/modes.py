"""Check for chapter 3: the reverse KL between a generator's mode histogram and the uniform one.

``check_*(fn)`` compares the student's ``fn`` with the library's metric on fixed-seed random inputs
and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..metrics.modes import reverse_kl_modes
from ._core import diagnose, expect_case, student_check

__all__ = ["check_reverse_kl_counts"]

F64 = torch.float64


def _library_reverse_kl(counts: torch.Tensor) -> torch.Tensor:
    """:func:`glo_teach.metrics.reverse_kl_modes` on samples placed exactly on K well-separated centres,
    n_k of them on centre k: the library's own metric for the histogram ``counts`` (..., K)."""
    flat = counts.reshape(-1, counts.shape[-1])
    centers = torch.stack(
        [
            torch.arange(counts.shape[-1], dtype=torch.float32) * 10,
            torch.zeros(counts.shape[-1]),
        ],
        1,
    )
    out = [
        reverse_kl_modes(centers.repeat_interleave(n.long(), 0), centers, std=0.1)
        for n in flat
    ]
    return torch.tensor(out, dtype=F64).reshape(counts.shape[:-1])


@student_check
def check_reverse_kl_counts(fn: Callable) -> str:
    """fn(counts) must return KL(q || p) in nats for per-mode high-quality counts n_k (last dim K):
    q_k = n_k / sum_j n_j, p_k = 1/K, KL = sum_k q_k log(q_k / p_k), empty modes contributing 0.
    Compared with :func:`glo_teach.metrics.reverse_kl_modes`. Book: {eq}`modes-reverse-kl`."""
    g = torch.Generator().manual_seed(21)
    cases = [
        (
            "counts of 8 modes",
            ((torch.rand(8, generator=g, dtype=F64) * 300 + 1).round(),),
        ),
        (
            "3 histograms of 25 modes (shape (3, 25))",
            ((torch.rand(3, 25, generator=g, dtype=F64) * 90 + 1).round(),),
        ),
    ]
    ok = diagnose(
        fn,
        _library_reverse_kl,
        cases,
        [
            (
                "that is the forward KL(p || q); the metric compares the generator's histogram q against uniform: "
                "KL(q || p), which is why it is mode-seeking",
                lambda n: torch.xlogy(
                    torch.ones_like(n) / n.shape[-1],
                    1 / (n.shape[-1] * n / n.sum(-1, keepdim=True)),
                ).sum(-1),
            ),
            (
                "q must be a distribution: divide the counts by their total before taking q log(q / p)",
                lambda n: torch.xlogy(n, n * n.shape[-1]).sum(-1),
            ),
            (
                "the reference p is uniform over the K modes, p_k = 1/K; you left it out (that is -H(q))",
                lambda n: torch.xlogy(
                    n / n.sum(-1, keepdim=True), n / n.sum(-1, keepdim=True)
                ).sum(-1),
            ),
            (
                "you reduce over the first dim; one value per histogram, over the last dim (the K modes)",
                lambda n: torch.xlogy(
                    n / n.sum(0, keepdim=True), n.shape[0] * n / n.sum(0, keepdim=True)
                ).sum(0),
            ),
        ],
    )
    empty = torch.tensor([50.0, 0.0, 50.0, 0.0], dtype=F64)
    expect_case(
        fn,
        _library_reverse_kl,
        (empty,),
        "wrong (nan?) when some modes are empty: an empty mode has q_k = 0 and contributes 0 log 0 = 0 (torch.xlogy)",
    )
    return ok + ", and empty modes contribute 0"
