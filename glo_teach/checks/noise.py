"""Check for chapter 4: the annealing schedule of instance noise.

``check_*(fn)`` compares the student's ``fn`` with the library's reference at every step of a few
schedules (and past their end) and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..gan.noise import instance_noise_sigma
from ._core import as_tensor, diagnose, student_check

__all__ = ["check_instance_noise_schedule"]

F64 = torch.float64
_PAST_END = 5  # steps after T at which the schedule must stay at 0


def _curve(schedule: Callable, T: int, sigma0: float, kind: str) -> torch.Tensor:
    """(T + 1 + _PAST_END,): schedule(t, T, sigma0, kind) for t = 0 .. T + _PAST_END."""
    return torch.stack(
        [
            as_tensor(schedule(t, T, sigma0, kind), torch.zeros((), dtype=F64))
            .double()
            .reshape(())
            for t in range(T + 1 + _PAST_END)
        ]
    )


def _wrong(
    linear: Callable[[float], float], cosine: Callable[[float], float]
) -> Callable:
    """A schedule sigma0 * shape(t / T) with a mistaken shape for 'linear' / 'cosine' (t not clamped)."""

    def schedule(t, T, sigma0, kind):
        return sigma0 * (
            1.0
            if kind == "constant"
            else (linear if kind == "linear" else cosine)(t / T)
        )

    return lambda T, sigma0, kind: _curve(schedule, T, sigma0, kind)


@student_check
def check_instance_noise_schedule(fn: Callable) -> str:
    """fn(step, total_steps, sigma0, kind) must return sigma_t for kind in {"constant", "linear", "cosine"}:
    sigma0; sigma0 max(0, 1 - t/T); sigma0 (1 + cos(pi min(t, T) / T)) / 2, with t = step (0-based) and
    T = total_steps, also for steps past T. Compared with :func:`glo_teach.gan.noise.instance_noise_sigma`
    at every step. Book: {eq}`instance-noise-schedule`."""
    cases = [
        ("the linear schedule, T = 20, sigma0 = 0.5", (20, 0.5, "linear")),
        ("the cosine schedule, T = 16, sigma0 = 1.2", (16, 1.2, "cosine")),
        ("the constant schedule, T = 10, sigma0 = 0.3", (10, 0.3, "constant")),
    ]
    clamp = lambda f: lambda u: f(min(u, 1.0))  # noqa: E731
    lin, cos = (lambda u: 1 - u), (lambda u: (1 + math.cos(math.pi * u)) / 2)
    return diagnose(
        lambda T, s0, kind: _curve(fn, T, s0, kind),
        lambda T, s0, kind: _curve(instance_noise_sigma, T, s0, kind),
        cases,
        [
            (
                "past the last step the schedule must stay at 0: clamp t at T (the noise turns negative, or the cosine "
                "rises again, after step T)",
                _wrong(lin, cos),
            ),
            (
                "the schedule is reversed: the noise starts at sigma0 and is annealed to 0, not the other way round",
                _wrong(
                    clamp(lambda u: u), clamp(lambda u: (1 - math.cos(math.pi * u)) / 2)
                ),
            ),
            (
                "the schedule is off by one step: at step 0 (the first) it must equal sigma0",
                lambda T, s0, kind: _curve(
                    lambda t, T_, s, k: instance_noise_sigma(t + 1, T_, s, k),
                    T,
                    s0,
                    kind,
                ),
            ),
            (
                "cos(pi t / T) alone goes from 1 to -1; the cosine schedule is (1 + cos(pi t / T)) / 2, from 1 to 0",
                _wrong(clamp(lin), clamp(lambda u: math.cos(math.pi * u))),
            ),
            (
                "cos(pi t / 2T) is a quarter period; the book's cosine schedule is (1 + cos(pi t / T)) / 2",
                _wrong(clamp(lin), clamp(lambda u: math.cos(math.pi * u / 2))),
            ),
        ],
    )
