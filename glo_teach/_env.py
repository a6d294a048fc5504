"""On/off switches read from the environment ($GLO_TEACH_PROGRESS, $GLO_TEACH_WIDGETS, $GLO_TEACH_RETRAIN)."""

from __future__ import annotations

import os


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_switch(name: str) -> bool | None:
    """The on/off environment variable ``name``: True for 1/true/yes/on, False for 0/false/no/off (any case),
    None when it is unset or empty; anything else raises ValueError naming the variable and the value."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _ON or value in _OFF:
        return value in _ON
    raise ValueError(
        f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {value!r}"
    )
