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
