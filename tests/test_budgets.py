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
            assert a <= b <= c, (
                f"{f.name} must not shrink from smoke to cpu to gpu: {a}, {b}, {c}"
            )


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


STEP_FIELDS = {
    "gan_steps",
    "toy_steps",
    "invert_steps",
    "max_steps",
}  # every step count of a budget


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_step_cap_caps_every_step_count_and_leaves_sizes_alone(monkeypatch, name):
    """$GLO_TEACH_STEP_CAP=2: each step field is min(stated, 2), max_steps is 2; every other field as stated."""
    monkeypatch.setenv("GLO_TEACH_STEP_CAP", "2")
    stated, capped = BUDGETS[name], get_budget(name)
    assert stated.max_steps is None  # the stated budgets are never capped
    for f in dataclasses.fields(stated):
        if f.name == "max_steps":
            assert capped.max_steps == 2
        elif f.name in STEP_FIELDS:
            assert getattr(capped, f.name) == min(getattr(stated, f.name), 2), f.name
        else:
            assert getattr(capped, f.name) == getattr(stated, f.name), f.name
    assert (
        set(f.name for f in dataclasses.fields(stated) if "steps" in f.name)
        == STEP_FIELDS
    )  # none left out
    monkeypatch.setenv("GLO_TEACH_BUDGET", name)
    assert get_budget() == capped  # the variable applies however the budget is chosen


def test_gpu_budget_capped_keeps_the_papers_sizes(monkeypatch):
    monkeypatch.setenv("GLO_TEACH_STEP_CAP", "2")
    b = get_budget("gpu")
    assert (b.n_images, b.table1_width, b.n_eval, b.table1_recon, b.batch_size) == (
        None,
        64,
        10_000,
        1000,
        128,
    )
    assert (b.gan_steps, b.toy_steps, b.invert_steps, b.max_steps) == (2, 2, 2, 2)


def test_step_cap_unset_or_empty_gives_the_stated_budget(monkeypatch):
    monkeypatch.delenv("GLO_TEACH_STEP_CAP", raising=False)
    assert get_budget("gpu") is BUDGETS["gpu"]
    monkeypatch.setenv("GLO_TEACH_STEP_CAP", "")
    assert get_budget("gpu") is BUDGETS["gpu"]


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "two", "1e3"])
def test_a_bad_step_cap_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("GLO_TEACH_STEP_CAP", value)
    with pytest.raises(
        ValueError, match=f"GLO_TEACH_STEP_CAP must be a positive integer.*{value!r}"
    ):
        get_budget("smoke")


def test_table1_protocol_carries_the_cap_and_gets_its_own_store_key(monkeypatch):
    """Protocol.from_budget takes max_steps (VAE, GLO), gan_steps and invert_steps from the capped budget, so
    Table 1's training obeys the cap, and the model store keeps capped models apart from uncapped ones."""
    from glo_teach.reference import PROTOCOLS, get_protocol, store_key

    monkeypatch.delenv("GLO_TEACH_STEP_CAP", raising=False)
    full, full_key = get_protocol("gpu"), store_key("mnist", "gpu")
    assert full == PROTOCOLS["gpu"] and full.max_steps is None
    monkeypatch.setenv("GLO_TEACH_STEP_CAP", "2")
    p = get_protocol("gpu")
    assert (p.max_steps, p.gan_steps, p.inversion.steps) == (2, 2, 2)
    assert (p.n_fit, p.width, p.n_scored, p.batch_size) == (
        full.n_fit,
        full.width,
        full.n_scored,
        full.batch_size,
    )
    assert store_key("mnist", "gpu") != full_key
    assert PROTOCOLS["gpu"] == full  # the stated protocols stay uncapped
