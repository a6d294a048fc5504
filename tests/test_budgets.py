"""Budgets: chosen by $GLO_TEACH_BUDGET, else by the device."""

import dataclasses

import pytest
import torch

from glo_teach.budgets import BUDGETS, get_budget


def test_env_var_chooses(monkeypatch):
    monkeypatch.setenv("GLO_TEACH_BUDGET", "smoke")
    assert get_budget().name == "smoke"
    assert get_budget("gpu").name == "gpu"


def test_automatic_choice_follows_cuda(monkeypatch):
    monkeypatch.delenv("GLO_TEACH_BUDGET", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_budget().name == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_budget().name == "gpu"


def test_unknown_budget_is_explained(monkeypatch):
    monkeypatch.setenv("GLO_TEACH_BUDGET", "huge")
    with pytest.raises(ValueError, match="budget must be one of"):
        get_budget()


def test_budgets_are_frozen_and_ordered():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BUDGETS["cpu"].glo_epochs = 1
    smoke, cpu, gpu = BUDGETS["smoke"], BUDGETS["cpu"], BUDGETS["gpu"]
    for f in dataclasses.fields(smoke):
        if f.type in ("int", int):
            a, b, c = (getattr(x, f.name) for x in (smoke, cpu, gpu))
            assert a <= b <= c, f"{f.name} must not shrink from smoke to cpu to gpu: {a}, {b}, {c}"


def test_progress_switch_overrides_ci_and_rejects_nonsense(monkeypatch):
    """$GLO_TEACH_PROGRESS decides when set (the book build sets 0); otherwise bars are on except under $CI."""
    from glo_teach.budgets import progress_enabled
    monkeypatch.delenv("GLO_TEACH_PROGRESS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert progress_enabled() is True  # an interactive run
    monkeypatch.setenv("CI", "true")
    assert progress_enabled() is False
    monkeypatch.setenv("GLO_TEACH_PROGRESS", "1")
    assert progress_enabled() is True
    monkeypatch.delenv("CI")
    monkeypatch.setenv("GLO_TEACH_PROGRESS", "0")
    assert progress_enabled() is False
    monkeypatch.setenv("GLO_TEACH_PROGRESS", "maybe")
    with pytest.raises(ValueError, match="GLO_TEACH_PROGRESS must be 1 or 0.*'maybe'"):
        progress_enabled()
