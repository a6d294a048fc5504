"""Crash safety: a training SIGKILLed at random moments and restarted ends bitwise equal to an
uninterrupted run (every loop checkpoints atomically and restores networks, codes, optimisers,
RNG states and the data stream)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from glo_teach.checkpoint import load_checkpoint

WORKER = Path(__file__).with_name("_resume_worker.py")
TOTAL_STEPS = {
    "glo": 120,
    "gan": 100,
    "vae": 120,
}  # 96 images / 16 per batch * epochs, or steps


def _start(kind, ckpt, out):
    env = dict(os.environ, OMP_NUM_THREADS="1", CI="true")
    return subprocess.Popen(
        [sys.executable, str(WORKER), kind, str(ckpt), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(proc):
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output.decode()[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["glo", "gan", "vae"])
def test_sigkill_at_random_points_then_resume_is_bitwise_equal(kind, tmp_path):
    _finish(_start(kind, tmp_path / "ref", tmp_path / "ref.pt"))
    reference = torch.load(tmp_path / "ref.pt", weights_only=True)

    rng = random.Random(kind)
    ckpt, out = tmp_path / "killed", tmp_path / "killed.pt"
    killed_at = []
    for _ in range(8):  # until three kills have landed in the middle of a run
        if sum(s is not None and s < TOTAL_STEPS[kind] for s in killed_at) >= 3:
            break
        proc = _start(kind, ckpt, out)
        before = load_checkpoint(ckpt)
        start_step = before["step"] if before else 0
        deadline = time.monotonic() + 120
        while (
            proc.poll() is None and time.monotonic() < deadline
        ):  # wait until this run has made progress
            step = _safe_step(ckpt)
            if step is not None and step > start_step:
                break
            time.sleep(0.02)
        time.sleep(
            rng.uniform(0.0, 0.15)
        )  # an arbitrary moment, possibly in the middle of a write
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed_at.append(_safe_step(ckpt))
        else:
            _finish(proc)
    assert sum(s is not None and s < TOTAL_STEPS[kind] for s in killed_at) >= 3, (
        f"kills landed at steps {killed_at}"
    )
    _finish(_start(kind, ckpt, out))
    resumed = torch.load(out, weights_only=True)
    assert resumed.keys() == reference.keys()
    for name in reference:
        assert torch.equal(resumed[name], reference[name]), (
            f"{kind}: {name} differs after kills at steps {killed_at}"
        )


def _safe_step(ckpt):
    try:
        state = load_checkpoint(ckpt)
    except RuntimeError:
        return None
    return None if state is None else state["step"]
