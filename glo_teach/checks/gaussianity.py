"""Checks for the chapter on Gaussianity of the codes: Mardia's multivariate skewness and kurtosis.

``check_mardia(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random codes and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..glo.gaussianity import mardia_skewness_kurtosis
from ._core import StudentError, as_tensor, call, compare, student_check

__all__ = ["check_mardia"]

F64 = torch.float64


def _b1_b2(m: torch.Tensor) -> torch.Tensor:
    """(b_1, b_2) from the n x n matrix m_ij: b_1 = mean_ij m_ij^3, b_2 = mean_i m_ii^2."""
    return torch.stack([m.pow(3).mean(), m.diagonal().pow(2).mean()])


def _m(
    z: torch.Tensor,
    centre: bool = True,
    divisor: int | None = None,
    whiten: bool = True,
) -> torch.Tensor:
    zc = z - z.mean(0) if centre else z
    if not whiten:
        return zc @ zc.T
    s = zc.T @ zc / (divisor or len(z))
    return zc @ torch.linalg.solve(s, zc.T)  # (n, n)


@student_check
def check_mardia(fn: Callable) -> str:
    """fn(z) must return (b_1, b_2) of codes z (n, d): with mu the mean, S = (1/n) sum_i (z_i - mu)(z_i - mu)^T
    and m_ij = (z_i - mu)^T S^{-1} (z_j - mu), b_1 = (1/n^2) sum_{i,j} m_ij^3 and b_2 = (1/n) sum_i m_ii^2.
    Compared with :func:`glo_teach.glo.mardia_skewness_kurtosis`. Book: {eq}`gauss-mardia`."""
    g = torch.Generator().manual_seed(50)
    cases = []
    for n, d in [(60, 3), (150, 5)]:
        z = (
            torch.randn(n, d, generator=g, dtype=F64).exp()
            @ torch.randn(d, d, generator=g, dtype=F64)
            + 2.0
        )  # skewed
        cases.append((f"{n} skewed codes of dimension {d}", z))
    outs, refs = [], []
    for _, z in cases:
        out = call(fn, z)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise StudentError(
                f"should return a pair (b1, b2), got {type(out).__name__}"
            )
        outs.append(torch.stack([as_tensor(o, z).reshape(()).double() for o in out]))
        ref = mardia_skewness_kurtosis(z)
        refs.append(torch.tensor([ref["b1"], ref["b2"]], dtype=F64))
    wrong = lambda **kw: [_b1_b2(_m(z, **kw)) for _, z in cases]  # noqa: E731
    return compare(
        outs,
        refs,
        [f"(b1, b2) of {label}" for label, _ in cases],
        [
            (
                "S is the maximum-likelihood covariance, divisor n, not n - 1",
                [_b1_b2(_m(z, divisor=len(z) - 1)) for _, z in cases],
            ),
            (
                "m_ij is a Mahalanobis inner product: whiten with S^{-1}, otherwise the statistics depend on the codes' scale",
                wrong(whiten=False),
            ),
            (
                "the codes must be centred at their mean before the statistics are formed",
                wrong(centre=False),
            ),
            (
                "b_1 sums the cubes m_ij^3 over *all* pairs (i, j), not only i = j",
                [
                    torch.stack([_m(z).diagonal().pow(3).mean(), _b1_b2(_m(z))[1]])
                    for _, z in cases
                ],
            ),
            (
                "b_2 uses the squared Mahalanobis norms m_ii^2 of each code, not the squares of all m_ij",
                [
                    torch.stack([_b1_b2(_m(z))[0], _m(z).pow(2).mean()])
                    for _, z in cases
                ],
            ),
        ],
        rtol=1e-6,
        atol=1e-8,
    )
