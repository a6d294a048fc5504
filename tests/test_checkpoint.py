"""Checkpoints (atomic, weights_only), RNG state round trip, divergence guard."""

import random

import numpy as np
import pytest
import torch

from glo_teach.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from glo_teach.guard import DivergenceError, check_bounded, check_finite
from glo_teach.seed import rng_state, seed_everything, set_rng_state


def test_round_trip_with_weights_only(tmp_path):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    state = {
        "step": 7,
        "model": net.state_dict(),
        "opt": opt.state_dict(),
        "rng": rng_state(),
        "history": {"loss": [0.5, 0.25]},
    }
    save_checkpoint(tmp_path, state)
    back = load_checkpoint(tmp_path)
    assert back["step"] == 7 and back["history"] == {"loss": [0.5, 0.25]}
    torch.testing.assert_close(back["model"]["weight"], net.weight)
    assert (
        load_checkpoint(tmp_path / "missing") is None and load_checkpoint(None) is None
    )


def test_crash_during_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"step": 1})

    def dying_save(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt  # a kill in the middle of the write

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_NAME]


def test_damaged_checkpoint_is_explained(tmp_path):
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="could not be read"):
        load_checkpoint(tmp_path)


def test_rng_state_restores_every_generator(tmp_path):
    seed_everything(3)
    save_checkpoint(tmp_path, {"rng": rng_state()})
    first = (random.random(), np.random.rand(), torch.rand(3))
    set_rng_state(load_checkpoint(tmp_path)["rng"])
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert (
        first[0] == second[0]
        and first[1] == second[1]
        and torch.equal(first[2], second[2])
    )


def test_guard_names_the_problem():
    check_finite(0, loss=torch.tensor(1.0))
    with pytest.raises(
        DivergenceError, match=r"loss became nan at step 4.*learning rate"
    ):
        check_finite(4, loss=torch.tensor(float("nan")))
    with pytest.raises(DivergenceError, match="codes reached"):
        check_bounded(2, [("codes", torch.tensor([1.0, 2e5]))])
    with pytest.raises(DivergenceError):
        check_bounded(2, [("w", torch.tensor([float("inf")]))])
    with pytest.raises(TypeError):
        seed_everything(1.5)


def test_capture_restore_round_trip(tmp_path):
    """capture/restore bring back a network, its optimiser, a noise stream and the global RNG exactly."""
    from glo_teach.checkpoint import capture, restore

    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    noise = torch.Generator().manual_seed(5)
    save_checkpoint(tmp_path, capture({"net": net, "opt": opt, "noise": noise}, step=7))
    expected = (
        net.weight.detach().clone(),
        torch.randn(3, generator=noise),
        torch.randn(3),
    )

    net2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.Adam(net2.parameters(), lr=0.1)
    noise2 = torch.Generator().manual_seed(99)
    state = load_checkpoint(tmp_path)
    restore(state, {"net": net2, "opt": opt2, "noise": noise2})
    assert state["step"] == 7
    assert torch.equal(net2.weight, expected[0])
    assert torch.equal(
        torch.randn(3, generator=noise2), expected[1]
    )  # the stream continues where it was saved
    assert torch.equal(torch.randn(3), expected[2])  # so does torch's global RNG
    assert opt2.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    with pytest.raises(ValueError, match="no 'other'"):
        restore(state, {"other": net2})
