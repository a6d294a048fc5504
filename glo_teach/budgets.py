"""Compute budgets: one frozen dataclass per budget decides every size and length.

``smoke`` makes each chapter run in seconds (CI), ``cpu`` within about five minutes per
chapter on two cores, ``gpu`` at the paper's scale. The budget is chosen by
``$GLO_TEACH_BUDGET``; unset, it is ``gpu`` when CUDA is available and ``cpu`` otherwise.

``$GLO_TEACH_STEP_CAP=N`` (a positive integer) caps every step count of the chosen budget at N
(``gan_steps``, ``toy_steps``, ``invert_steps``, and ``max_steps`` for the epoch-based GLO and VAE
loops) and leaves every size alone: ``GLO_TEACH_BUDGET=gpu GLO_TEACH_STEP_CAP=2`` runs each loop at
the paper's shapes (full data, width 64, ``n_eval``, ``table1_recon``) for two steps, a check of
shapes and memory, not of quality. It is read here only (:func:`get_budget`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import torch

from ._env import env_switch

__all__ = [
    "Budget",
    "BUDGETS",
    "STEP_CAP_VARIABLE",
    "capped",
    "get_budget",
    "default_device",
    "progress_enabled",
]


@dataclass(frozen=True)
class Budget:
    """Sizes and lengths for one budget. ``None`` for ``n_images`` means the whole data set."""

    name: str
    n_images: int | None  # training images drawn from a data set (evenly spaced subset)
    batch_size: int  # images per SGD step (GLO, VAE, DCGAN)
    glo_epochs: int  # passes over the training set for GLO
    vae_epochs: int  # passes for the VAE baseline (the paper: 25)
    gan_steps: int  # generator updates for DCGAN on images
    toy_steps: int  # generator updates on the 1-D / 2-D toy distributions
    toy_batch: int  # samples per step on the toys
    invert_steps: int  # gradient steps to find a code for a new image
    n_eval: int  # test images / samples used by a metric
    classifier_epochs: (
        int  # epochs of the digit classifier used by the Frechet distance
    )
    table1_width: int  # DCGAN width (ngf = ndf) of Table 1's VAE, DCGAN and GLO generators (the paper: 64)
    table1_recon: (
        int  # images per split (train, test) whose codes Table 1 finds and scores
    )
    max_steps: int | None = (
        None  # cap on optimiser steps of every epoch-based loop (GLO, VAE); None = no cap
    )


BUDGETS: dict[str, Budget] = {
    "smoke": Budget(
        name="smoke",
        n_images=512,
        batch_size=64,
        glo_epochs=1,
        vae_epochs=1,
        gan_steps=10,
        toy_steps=50,
        toy_batch=128,
        invert_steps=10,
        n_eval=64,
        classifier_epochs=1,
        table1_width=16,
        table1_recon=32,
    ),
    "cpu": Budget(
        name="cpu",
        n_images=10_000,
        batch_size=128,
        glo_epochs=10,
        vae_epochs=10,
        gan_steps=1500,
        toy_steps=2000,
        toy_batch=256,
        invert_steps=200,
        n_eval=1000,
        classifier_epochs=2,
        table1_width=32,
        table1_recon=128,
    ),
    "gpu": Budget(
        name="gpu",
        n_images=None,
        batch_size=128,
        glo_epochs=25,
        vae_epochs=25,
        gan_steps=20_000,
        toy_steps=10_000,
        toy_batch=512,
        invert_steps=1000,
        n_eval=10_000,
        classifier_epochs=5,
        table1_width=64,
        # the reference protocol's n_scored: per-image pSNR spreads by ~3.5 dB, so 1,000 images give a
        # standard error near 0.11 dB (the target is <= 0.15); 10,000 cost 10x the code search for 0.04 dB
        table1_recon=1000,
    ),
}


STEP_CAP_VARIABLE = "GLO_TEACH_STEP_CAP"


def capped(budget: Budget, cap: int) -> Budget:
    """``budget`` with every step count at most ``cap``: gan_steps, toy_steps, invert_steps, and
    max_steps for the epoch-based loops. Sizes (n_images, batch_size, n_eval, table1_width, table1_recon)
    and epoch counts stay as they are (the loops stop at max_steps)."""
    return replace(
        budget,
        gan_steps=min(budget.gan_steps, cap),
        toy_steps=min(budget.toy_steps, cap),
        invert_steps=min(budget.invert_steps, cap),
        max_steps=cap,
    )


def _step_cap() -> int | None:
    """``$GLO_TEACH_STEP_CAP`` as a positive integer, or None when it is unset or empty."""
    value = os.environ.get(STEP_CAP_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{STEP_CAP_VARIABLE} must be a positive integer (steps per loop, e.g. 2), got {value!r}"
        )
    return int(value)


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def get_budget(name: str | None = None) -> Budget:
    """The budget called ``name``, else ``$GLO_TEACH_BUDGET``, else ``gpu``/``cpu`` by device; with
    ``$GLO_TEACH_STEP_CAP`` set, its steps capped (:func:`capped`), whichever way it was chosen."""
    name = (
        name
        or os.environ.get("GLO_TEACH_BUDGET")
        or ("gpu" if torch.cuda.is_available() else "cpu")
    )
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got {name!r}")
    cap = _step_cap()
    return BUDGETS[name] if cap is None else capped(BUDGETS[name], cap)


def progress_enabled() -> bool:
    """Whether loops draw tqdm progress bars: ``$GLO_TEACH_PROGRESS`` = 1/0 decides when set (the book
    build sets 0: a bar frozen at "789/790" is noise in a rendered page); otherwise on, except under CI
    (``$CI`` set), where their output would break nbval comparisons. Interactive runs keep them."""
    switch = env_switch("GLO_TEACH_PROGRESS")
    if switch is not None:
        return switch
    return not os.environ.get("CI")
