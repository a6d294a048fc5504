"""A progress bar for long training loops, silent under CI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

from .budgets import progress_enabled

T = TypeVar("T")


def progress(
    iterable: Iterable[T], total: int | None = None, desc: str | None = None
) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar unless ``$CI`` is set."""
    return tqdm(
        iterable, total=total, desc=desc, disable=not progress_enabled(), leave=False
    )
