"""The one checkpoint format: a dict of tensors and plain values, written atomically.

A checkpoint holds everything needed to continue bit-for-bit: networks, latent codes,
optimiser states, RNG states, the step and the history. It is written to a temporary file
in the same directory, flushed to disk, then moved over the old one with ``os.replace``, so
a crash at any moment leaves either the old or the new checkpoint, never a torn one. It is
read with ``torch.load(weights_only=True)``: no arbitrary pickle is ever executed.

Every training loop builds its checkpoint with :func:`capture` and resumes with :func:`restore`
from a dict of named *parts*: networks and optimisers (``state_dict``), ``torch.Generator``
streams (``get_state``) and data streams such as ``RealBatches`` (``state``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .seed import rng_state, set_rng_state

__all__ = [
    "CHECKPOINT_NAME",
    "save_checkpoint",
    "load_checkpoint",
    "capture",
    "restore",
]

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(directory: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Atomically write ``state`` to ``directory/checkpoint.pt`` and return that path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(
    directory: str | os.PathLike | None, map_location: Any = "cpu"
) -> dict[str, Any] | None:
    """The state saved in ``directory``, or ``None`` when there is none (or no directory)."""
    if directory is None:
        return None
    path = Path(directory) / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a file we did not write, or one damaged after the write
        raise RuntimeError(
            f"checkpoint {path} could not be read ({e}); delete it to start afresh"
        ) from e


def capture(parts: dict[str, Any], **values: Any) -> dict[str, Any]:
    """{name: state of each part} plus the global RNG states (key ``"rng"``) and ``values``."""
    state = {name: _get(part) for name, part in parts.items()}
    return {**state, "rng": rng_state(), **values}


def restore(state: dict[str, Any], parts: dict[str, Any]) -> None:
    """Load each part's state from ``state`` (written by :func:`capture`) and the global RNG states."""
    for name, part in parts.items():
        if name not in state:
            raise ValueError(
                f"the checkpoint has no {name!r}; it holds {sorted(state)}"
            )
        _set(part, state[name])
    set_rng_state(state["rng"])


def _get(part: Any) -> Any:
    if isinstance(part, torch.Generator):
        return part.get_state()
    return part.state_dict() if hasattr(part, "state_dict") else part.state()


def _set(part: Any, value: Any) -> None:
    if isinstance(part, torch.Generator):
        part.set_state(value)
    elif hasattr(part, "load_state_dict"):
        part.load_state_dict(value)
    else:
        part.load_state(value)
