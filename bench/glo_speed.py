"""GLO training speed: images/s and achieved GFLOP/s against this machine's fp32 matmul GFLOP/s.

Two settings, the DCGAN generator and plain SGD as in the paper, timed through ``train_glo``
itself (the library's loop, with its guard, projection and data slicing):

- 32 px: d = 32, 1 channel, batch 128, MSE;
- 64 px: d = 100, 3 channels, batch 128, Lap1 (the public GLO's setting).

Each setting times three epochs of ``--steps`` batches and keeps the fastest. FLOPs of one
training step are counted with ``torch.utils.flop_counter.FlopCounterMode``
(matmuls and convolutions, forward and backward; elementwise work is not counted), so
achieved GFLOP/s = FLOPs per image x images/s. The reference is the fp32 matmul throughput
(2048 x 2048 x 2048 sgemm) measured in the same run right before and after each setting; their
mean is the denominator, which cancels most of the drift of a shared machine's load. The
"ceiling" is the images/s the generator would reach at 100% of that matmul rate.

The public GLO implementation (Lap1, SGD, codes held in numpy and copied per batch) runs at about
186 images/s at 32 px and 100 images/s at 64 px on this kind of 2-core machine; the target is 2x
that and 70% of the matmul throughput.

Threads. Every setting runs with 1 thread and with torch's default (one per core). On a 2-core
machine that other jobs keep busy, one thread was 2.2-2.4x *faster* than two (measured
back-to-back: 776 vs 316 images/s at 32 px, 130 vs 60 at 64 px): each of the ~100 operators
of a step ends at a barrier that waits for the thread whose core was taken away. On an idle
machine the default should win; the bench prints both so that the figure is not a guess.

Usage: ``python bench/glo_speed.py [--quick] [--steps N] [--threads 1,2]`` (about 2 min with
``--quick``, about 3 min without, on a 2-core CPU). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from glo_teach import DCGANGenerator, seed_everything
from glo_teach.glo import LatentCodes, glo_loss, train_glo

REFERENCE_IMG_S = {32: 186.0, 64: 100.0}  # the public GLO code on a 2-core CPU
SETTINGS = [  # (size, latent_dim, channels, batch, loss, steps as a multiple of --steps)
    (32, 32, 1, 128, "mse", 2),
    (64, 100, 3, 128, "lap1", 1),
]


def matmul_gflops(n: int = 2048, repeats: int = 8) -> float:
    """fp32 GFLOP/s of an n x n x n matrix product (2 n^3 FLOPs), best of ``repeats``."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def step_flops(size: int, d: int, c: int, batch: int, loss: str) -> int:
    """FLOPs of one GLO training step (forward and backward of generator and loss)."""
    g = DCGANGenerator(d, c, size)
    codes = LatentCodes(batch, d)
    x = torch.rand(batch, c, size, size) * 2 - 1
    with FlopCounterMode(display=False) as counter:
        z = codes.batch(torch.arange(batch))
        glo_loss(g(z), x, kind=loss).backward()
    return counter.get_total_flops()


def images_per_second(size: int, d: int, c: int, batch: int, loss: str, steps: int, repeats: int = 3) -> float:
    """Images/s of ``train_glo`` over one epoch of ``steps`` batches: the best of ``repeats`` epochs
    (after a 2-step warm-up), since other load on a shared machine only ever slows a run down."""
    seed_everything(0)
    x = torch.rand(batch * steps, c, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    lr_g = 0.1  # stable on random images; speed does not depend on the learning rate
    train_glo(DCGANGenerator(d, c, size), x[: 2 * batch], d, loss=loss, lr_g=lr_g, batch_size=batch)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        g = DCGANGenerator(d, c, size)
        t = time.perf_counter()
        train_glo(g, x, d, loss=loss, lr_g=lr_g, epochs=1, batch_size=batch)
        best = min(best, time.perf_counter() - t)
    return batch * steps / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="steps per timed epoch at 64 px (2x at 32 px); 3 epochs")
    parser.add_argument("--quick", action="store_true", help="3 steps at 64 px, 6 at 32 px")
    parser.add_argument("--threads", default=f"1,{torch.get_num_threads()}",
                        help="comma-separated torch thread counts to time (default: 1 and torch's choice)")
    args = parser.parse_args()
    steps = 3 if args.quick else args.steps
    for threads in dict.fromkeys(int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, {threads} thread(s)")
        run_settings(steps)


def run_settings(steps: int) -> None:
    peak = matmul_gflops()
    for size, d, c, batch, loss, mult in SETTINGS:
        flops = step_flops(size, d, c, batch, loss) / batch  # per image
        rate = images_per_second(size, d, c, batch, loss, mult * steps)
        peak_after = matmul_gflops()
        peak_mean, peak = (peak + peak_after) / 2, peak_after
        achieved = flops * rate / 1e9
        ref = REFERENCE_IMG_S[size]
        print(f"{size} px, d={d}, {c} ch, batch {batch}, {loss}: {rate:.0f} images/s = {rate / ref:.2f}x the public "
              f"GLO's {ref:.0f} (target {2 * ref:.0f}); {flops / 1e6:.0f} MFLOP/image, {achieved:.1f} GFLOP/s = "
              f"{achieved / peak_mean:.0%} of the fp32 matmul's {peak_mean:.1f} GFLOP/s "
              f"(ceiling at 100%: {peak_mean * 1e9 / flops:.0f} images/s)")


if __name__ == "__main__":
    main()
