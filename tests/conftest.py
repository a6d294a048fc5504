"""Shared test settings: CPU, deterministic, progress bars off."""

import os

import pytest
import torch

os.environ.setdefault("CI", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
torch.set_num_threads(1)  # tests run under pytest-xdist: one thread per worker


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """A data search path with nothing in it: $GLO_TEACH_DATA=tmp/env, no repo data, HOME=tmp/home."""
    from glo_teach.data import files

    env = tmp_path / "env"
    env.mkdir()
    monkeypatch.setenv("GLO_TEACH_DATA", str(env))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(files, "REPO_DATA", tmp_path / "no-repo-data")
    return env


@pytest.fixture
def one_thread():
    """Tiny networks train faster on one thread (and the result does not depend on the thread count)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
