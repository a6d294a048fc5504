"""The paper-scale protocol at its real shapes, for two steps of every loop: the whole fit part of MNIST
(65,812 images), width-64 networks, the Lap1 half under both readings. A check of shapes, memory and
the run's bookkeeping (never of quality), so that the first real `glo-teach reference` run does not
fail after hours on something two steps would have shown."""

import math
from dataclasses import replace

from glo_teach.reference import PROTOCOLS, VALIDATION_RESERVED, run_table1
from glo_teach.data.datasets import split_size


def test_reference_protocol_runs_every_stage_at_the_papers_shapes(tmp_path):
    ref = PROTOCOLS["reference"]
    two = replace(
        ref,
        max_steps=2,
        gan_steps=2,
        inversion=replace(ref.inversion, steps=2),
        n_scored=16,
        sanity_n=4,
    )
    result = run_table1("mnist", two, out=tmp_path, device="cpu")
    assert (two.width, two.n_fit) == (
        64,
        None,
    )  # the paper's width, all of the fit part
    assert (
        result.n_train == split_size("mnist", "train") - VALIDATION_RESERVED == 65_812
    )
    assert result.n_eval == (16, 16)
    codes = [r["codes"] for r in result.rows]
    assert "lap1" in codes and "lap1-level" in codes  # both readings of Lap1
    assert all(math.isfinite(r[s]) for r in result.rows for s in ("train", "test"))
    assert {p.name for p in tmp_path.iterdir()} >= {
        "table1.json",
        "table1.csv",
        "table1.md",
        "samples.png",
    }
