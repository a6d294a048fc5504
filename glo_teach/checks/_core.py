"""The machinery shared by every check: run the student's function, compare, diagnose, report.

A check calls the student's function on fixed-seed random inputs and compares the result with
the library's reference. When they differ it tries, in order, (1) the check's list of known
mistakes — each *computed* from the inputs (the reference with swapped arguments, the sphere
instead of the ball, ...), (2) the shape, (3) non-finite values, (4) a flipped sign, a constant
factor or a constant offset. It reports what is wrong, never the code that would be right.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "CheckResult",
    "StudentError",
    "student_check",
    "call",
    "as_tensor",
    "close",
    "expect_case",
    "compare",
    "diagnose",
    "seeded",
    "describe",
]

NOT_IMPLEMENTED = (
    "not implemented yet: replace the `raise NotImplementedError` line with your code"
)

# constant factors a student is likely to be off by, with what they usually mean
_KNOWN_FACTORS = {
    2.0: "a factor 1/2 is missing",
    0.5: "an extra factor 1/2",
    1 / math.log(2): "log base 2 (bits) instead of the natural log (nats)",
    math.log(2): "natural log where log base 2 was expected",
}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check: ``passed`` and a one-line ``message`` (truthy iff passed)."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'PASSED' if self.passed else 'FAILED'} {self.name}: {self.message}"


class StudentError(Exception):
    """A diagnosis: the student's function is wrong, and the message says how."""


def student_check(body: Callable[[Callable], str]) -> Callable[..., CheckResult]:
    """Turn ``body(fn) -> success message`` (raising StudentError on a wrong answer) into a check
    ``check(fn, verbose=True) -> CheckResult`` that prints one friendly line and never raises."""

    @functools.wraps(body)
    def check(fn: Callable, verbose: bool = True) -> CheckResult:
        if not callable(fn):
            result = CheckResult(
                body.__name__, False, f"expected a function, got {type(fn).__name__}"
            )
        else:
            try:
                result = CheckResult(body.__name__, True, body(fn))
            except StudentError as e:
                result = CheckResult(body.__name__, False, str(e))
        if verbose:
            print(("\u2705 " if result.passed else "\u274c ") + str(result))
        return result

    return check


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for the student's code without disturbing the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def describe(args: Sequence[object]) -> str:
    """'shapes (4, 5), (4, 5)' for tensors, the value for the rest."""
    return ", ".join(
        str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a) for a in args
    )


def call(fn: Callable, *args: object, seed: int = 0) -> object:
    """fn(*args) on copies of the tensor inputs (leaves that require grad are passed as they are),
    under a fixed seed; NotImplementedError and other exceptions become a StudentError."""
    args = tuple(
        a.detach().clone() if isinstance(a, torch.Tensor) and not a.requires_grad else a
        for a in args
    )
    try:
        with seeded(seed):
            return fn(*args)
    except NotImplementedError:
        raise StudentError(NOT_IMPLEMENTED) from None
    except Exception as e:  # the student's bug, reported rather than raised
        raise StudentError(
            f"your function raised {type(e).__name__}: {e} (inputs: {describe(args)})"
        ) from None


def as_tensor(out: object, like: torch.Tensor) -> torch.Tensor:
    """The student's output as a tensor (a Python number is accepted for a scalar)."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return torch.tensor(float(out), dtype=like.dtype)
    raise StudentError(f"should return a torch.Tensor, got {type(out).__name__}")


def expect_case(
    fn: Callable, reference: Callable, args: Sequence[torch.Tensor], message: str
) -> None:
    """Raise StudentError(message) unless fn(*args) is close to reference(*args): one named edge case."""
    if not close(as_tensor(call(fn, *args), args[0]), reference(*args)):
        raise StudentError(message)


def close(
    a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-5, atol: float = 1e-6
) -> bool:
    """Same shape and allclose in float64 (nan == nan, inf == inf)."""
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return a.shape == b.shape and torch.allclose(
        a, b, rtol=rtol, atol=atol, equal_nan=True
    )


def _constant(values: torch.Tensor, tol: float = 1e-4) -> float | None:
    """The common value of ``values`` if they are all equal within a relative ``tol``, else None."""
    values = values[torch.isfinite(values)]
    if values.numel() == 0:
        return None
    c = values.median().item()
    return c if ((values - c).abs() <= tol * max(1.0, abs(c))).all() else None


def compare(
    outs: Sequence[torch.Tensor],
    refs: Sequence[torch.Tensor],
    labels: Sequence[str],
    mistakes: Sequence[tuple[str, Sequence[torch.Tensor]]] = (),
    rtol: float = 1e-5,
    atol: float = 1e-6,
    nonfinite_hint: str = "a log of 0 or a division by 0?",
) -> str:
    """Return a success message if every ``outs[i]`` matches ``refs[i]``; else raise the diagnosis.

    ``mistakes``: (hint, outputs of that mistake on every case); a mistake is diagnosed when the
    student's outputs match it on every case.
    """
    if all(close(o, r, rtol, atol) for o, r in zip(outs, refs)):
        return f"matches the reference on {len(outs)} random input(s)"
    for hint, wrong in mistakes:
        if all(close(o, w, rtol, atol) for o, w in zip(outs, wrong)):
            raise StudentError(hint)
    for o, r, label in zip(outs, refs, labels):
        if o.shape != r.shape:
            raise StudentError(
                f"wrong shape for {label}: expected {tuple(r.shape)}, got {tuple(o.shape)} "
                "(check which axis you reduce over, and whether you reduce at all)"
            )
    for o, r, label in zip(outs, refs, labels):
        o, r = o.detach().double().cpu(), r.detach().double().cpu()
        if (~torch.isfinite(o) & torch.isfinite(r)).any():
            raise StudentError(
                f"returns nan or inf for {label} where the result is finite: {nonfinite_hint}"
            )
    o_all = torch.cat([o.detach().double().cpu().flatten() for o in outs])
    r_all = torch.cat([r.detach().double().cpu().flatten() for r in refs])
    nonzero = r_all.abs() > 1e-8
    factor = _constant(o_all[nonzero] / r_all[nonzero]) if nonzero.sum() > 1 else None
    if factor is not None and abs(factor - 1) > 1e-4:
        if abs(factor + 1) < 1e-4:
            raise StudentError(
                "the sign is flipped: your output is minus the expected one"
            )
        known = next(
            (why for c, why in _KNOWN_FACTORS.items() if abs(factor - c) < 1e-4 * c),
            "a missing or extra factor",
        )
        raise StudentError(
            f"off by a constant factor: your output is {factor:.4g} times the expected one ({known})"
        )
    offset = _constant(o_all - r_all) if o_all.numel() > 1 else None
    if offset is not None and abs(offset) > atol:
        raise StudentError(
            f"off by a constant: your output is the expected one {offset:+.4g} (a missing or extra term)"
        )
    worst = max(
        range(len(outs)),
        key=lambda i: (
            (outs[i].detach().double().cpu() - refs[i].double().cpu()).abs().max()
        ),
    )
    err = (
        (outs[worst].detach().double().cpu() - refs[worst].double().cpu())
        .abs()
        .max()
        .item()
    )
    raise StudentError(
        f"does not match the reference for {labels[worst]} (largest error {err:.3g}); "
        "re-read the equation, sign and reduction included"
    )


def diagnose(
    fn: Callable,
    reference: Callable,
    cases: Sequence[tuple[str, tuple]],
    mistakes: Sequence[tuple[str, Callable]] = (),
    **kwargs,
) -> str:
    """:func:`compare` the student's ``fn`` with ``reference`` on ``cases`` = [(label, args)];
    ``mistakes`` = [(hint, wrong_fn)] with wrong_fn computed on the same args."""
    labels = [label for label, _ in cases]
    refs = [reference(*args) for _, args in cases]
    outs = [as_tensor(call(fn, *args), r) for (_, args), r in zip(cases, refs)]
    wrongs = []
    for hint, wrong_fn in mistakes:
        try:
            wrongs.append((hint, [wrong_fn(*args) for _, args in cases]))
        except Exception:  # a mistake that cannot even be computed on these inputs is not the diagnosis
            continue
    return compare(outs, refs, labels, wrongs, **kwargs)
