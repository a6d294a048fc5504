"""Training speed side by side: our GLO loop against the public GLO step, and every step against matmul.

1. GLO against the public code. ``bench/_reference_glo.py`` re-implements the public GLO step
   (numpy codes copied into a leaf per batch, one SGD over [theta, z], MSE or a 3-level LapLoss
   with the squared 5 x 5 Gaussian as a convolution and average-pool downsampling, numpy
   projection). It and ``train_glo`` (the library's loop: guard, projection, data slicing) run
   in the same process on the same in-memory images, alternating round by round; each keeps its
   best round (other load only ever slows a run down) and the printed ratio is ours / reference:

   - 32 px: d = 32, 1 channel, batch 128, MSE;
   - 64 px: d = 100, 3 channels, batch 128, Lap1 (the public GLO's setting; our 4 pyramid
     levels are its 3 band-pass levels plus the low-pass residual).

2. Every step against the machine. The GLO steps, a DCGAN GAN step (G and D, non-saturating,
   ``train_gan``), a VAE step (``train_vae``) and batched inversion (``glo.invert``, one Adam step
   on 256 codes) are each given as achieved GFLOP/s / the fp32 matmul GFLOP/s (2048^3 sgemm)
   measured in the same run before and after (their mean). FLOPs are those of the networks
   (matmuls and convolutions, forward and backward, ``FlopCounterMode``; elementwise work and
   the loss are not counted), so 1.0 is the limit for this FLOP count. The reference's GLO step, of
   the same FLOPs, gets its fraction too: ours / reference cannot exceed 1 / that fraction.

3. Per-layer breakdown: each leaf layer of each network is timed alone (forward + backward on its
   own input from the step), with its share of the summed time and its own fraction of the matmul
   rate; the first rows are what holds the step back.

4. ``--levers``: each stride-2 layer of the two generators as the plain ConvTranspose2d, as matmul +
   fold and as the sub-pixel convolution (``glo_teach.nets``), both memory layouts, ratio to plain;
   the generator uses the winners (``DCGANGenerator.last_layer``).

5. ``--compile``: each GLO generator's step eager and under ``torch.compile`` (inductor fuses
   BatchNorm + ReLU): its compile time and the steady-state ratio.

Usage: ``python bench/glo_speed.py [--quick] [--threads 1,2] [--no-layers] [--levers] [--compile]``; ``--quick`` runs in
under a minute (2 steps, 2 rounds, no per-layer breakdown), the full run (3 steps,
6 at 32 px, best of 3 alternating rounds) in about 3 minutes on an idle 2-core CPU. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

os.environ.setdefault(
    "CI", "1"
)  # no progress bars (glo_teach.budgets.progress_enabled) between the figures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _reference_glo import ReferenceGLO

from glo_teach import DCGANDiscriminator, DCGANGenerator, seed_everything
from glo_teach.data import ImageDataset
from glo_teach.gan import train_gan
from glo_teach.glo import invert, train_glo
from glo_teach.nets import conv_transpose_s2_as_matmul, conv_transpose_s2_subpixel
from glo_teach.vae import VAE, train_vae

GLO_SETTINGS = [
    (32, 32, 1, "mse"),
    (64, 100, 3, "lap1"),
]  # (size, d, channels, loss); batch 128
BATCH = 128


def matmul_gflops(n: int = 2048, repeats: int = 4) -> float:
    """fp32 GFLOP/s of an n x n x n matrix product (2 n^3 FLOPs), best of ``repeats``."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _images(n: int, c: int, s: int, seed: int = 0) -> torch.Tensor:
    return (
        torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    )  # in [-1, 1]


def _flops(fn: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


# --- the steps: each returns (run(k): time k steps, flops of one step, the nets for the breakdown) ---


def glo_ours(size: int, d: int, c: int, loss: str, k: int):
    x = _images(BATCH * k, c, size)
    g = DCGANGenerator(d, c, size)
    train_glo(
        g, x[: 2 * BATCH], d, loss=loss, lr_g=0.1, batch_size=BATCH
    )  # warm-up (and channels_last)

    def run() -> float:  # one epoch of k batches through the library's loop
        return _timed(
            lambda: train_glo(g, x, d, loss=loss, lr_g=0.1, epochs=1, batch_size=BATCH)
        )

    def one_step() -> None:
        # the plain network's FLOPs (forward + backward into theta and z), the same count for ours and the
        # reference: our fast layers compute the same values (the sub-pixel last layer does 0.2% more)
        z = torch.randn(BATCH, d, requires_grad=True)
        g.net(z[:, :, None, None]).sum().backward()

    return run, _flops(one_step), g


def glo_reference(size: int, d: int, c: int, loss: str, k: int):
    ref = ReferenceGLO(_images(BATCH * k, c, size), d, loss)
    rng = np.random.default_rng(0)
    ref.epoch(BATCH, 2, rng)  # warm-up
    return lambda: _timed(lambda: ref.epoch(BATCH, k, rng))


def gan_step(k: int, size: int = 32, d: int = 100):
    data = ImageDataset(_images(BATCH * (k + 1), 1, size), name="bench")
    G, D = DCGANGenerator(d, 1, size), DCGANDiscriminator(1, size)
    kw = {
        "loss": "nonsaturating",
        "batch_size": BATCH,
        "latent_dim": d,
        "log_every": 10**9,
    }
    train_gan(G, D, data, steps=1, **kw)  # warm-up
    return (
        lambda: _timed(lambda: train_gan(G, D, data, steps=k, **kw)),
        _flops(lambda: train_gan(G, D, data, steps=1, **kw)),
        (G, D),
    )


def vae_step(k: int, size: int = 32, d: int = 32):
    data = ImageDataset(_images(BATCH * k, 1, size), name="bench")
    vae = VAE(d, 1, size)
    train_vae(vae, ImageDataset(data.images[:BATCH]), epochs=1)  # warm-up
    return (
        lambda: _timed(lambda: train_vae(vae, data, epochs=1, batch_size=BATCH)),
        _flops(lambda: train_vae(vae, ImageDataset(data.images[:BATCH]), epochs=1)),
        (vae,),
    )


def invert_step(k: int, size: int = 32, d: int = 32, n: int = 2 * BATCH):
    g = DCGANGenerator(d, 1, size)
    x = _images(n, 1, size)
    invert(g, x, steps=1)  # warm-up
    return (
        lambda: _timed(lambda: invert(g, x, steps=k)),
        _flops(lambda: invert(g, x, steps=1)),
        (g,),
    )


# --- per-layer breakdown ---


def layer_breakdown(
    nets: tuple[nn.Module, ...], inputs: list[torch.Tensor], peak: float, repeats: int
) -> list:
    """[(name, seconds, flops)] of each leaf layer alone, forward + backward on the input it gets in the step."""
    captured: list[tuple[str, nn.Module, torch.Tensor]] = []
    hooks = []
    for net, xin in zip(nets, inputs):
        prefix = type(net).__name__
        for name, m in net.named_modules():
            if len(list(m.children())) == 0:
                hooks.append(
                    m.register_forward_hook(
                        lambda mod, args, out, name=f"{prefix}.{name}": captured.append(
                            (name, mod, args[0])
                        )
                    )
                )
    extra: list[tuple[str, Callable[[torch.Tensor], torch.Tensor], torch.Tensor]] = []
    for net, xin in zip(nets, inputs):
        if isinstance(
            net, DCGANGenerator
        ):  # first and last layers bypass their modules (nets.py)
            w0 = net.net[0].weight
            how = "matmul + fold" if net.channels == 1 else "sub-pixel conv"
            before_last = net.net[-3].register_forward_hook(
                lambda mod, args, out, net=net, how=how: extra.append(
                    (
                        f"DCGANGenerator.net.{len(net.net) - 2} last layer as {how} {tuple(out.shape[1:])}",
                        net.last_layer,
                        out,
                    )
                )
            )
            extra.append(
                (
                    f"DCGANGenerator.net.0 first layer as matmul {tuple(xin.shape[1:])}",
                    lambda z, w0=w0: z @ w0.flatten(1),
                    xin,
                )
            )
        with torch.no_grad():
            net(xin)
        if isinstance(net, DCGANGenerator):
            before_last.remove()
    for h in hooks:
        h.remove()
    captured += [(name, fn, xin) for name, fn, xin in extra]
    rows = []
    for name, m, xin in captured:
        xin = xin.detach().clone().requires_grad_(True)
        inplace = getattr(m, "inplace", False)

        def fwd_bwd(m=m, xin=xin, inplace=inplace):
            y = m(
                xin * 1 if inplace else xin
            )  # an in-place ReLU may not overwrite a leaf
            y.backward(torch.ones_like(y))

        fwd_bwd()
        t = min(_timed(fwd_bwd) for _ in range(repeats))
        label = (
            name
            if not isinstance(m, nn.Module)
            else f"{name} {type(m).__name__} {tuple(xin.shape[1:])}"
        )
        rows.append((label, t, _flops(fwd_bwd)))
    return rows


def print_breakdown(title: str, rows: list, peak: float, step_s: float) -> None:
    total = sum(t for _, t, _ in rows)
    print(
        f"  layers of {title}, each alone, fwd + bwd once (share of their sum {total * 1e3:.0f} ms; the step took "
        f"{step_s * 1e3:.0f} ms incl. loss, optimizer, guard, data), fraction of matmul:"
    )
    for name, t, f in sorted(rows, key=lambda r: -r[1]):
        frac = f"{f / t / 1e9 / peak:4.0%}" if f else "   -"
        print(f"    {t / total:4.0%}  {frac}  {t * 1e3:6.1f} ms  {name}")


# --- levers: each stride-2 transposed convolution computed three ways ---

LEVER_LAYERS = [
    (256, 128, 4),
    (128, 64, 8),
    (64, 1, 16),  # the 32 px generator's stride-2 layers (Cin, Cout, in px)
    (512, 256, 4),
    (256, 128, 8),
    (128, 64, 16),
    (64, 3, 32),
]  # the 64 px generator's


def _conv_t(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return nn.functional.conv_transpose2d(x, w, stride=2, padding=1)


def levers(rounds: int, iters: int = 3) -> None:
    """ms of fwd + bwd (batch 128; the last layers through their tanh) of each stride-2 layer as the plain
    ConvTranspose2d, as matmul + fold and as the sub-pixel convolution, channels_last (CL) and contiguous
    (NC); alternating variant by variant, best of ``rounds``, ratio = plain / variant (> 1: faster)."""
    variants = {
        "plain": _conv_t,
        "fold": conv_transpose_s2_as_matmul,
        "sub-pixel": conv_transpose_s2_subpixel,
    }
    for c_in, c_out, s in LEVER_LAYERS:
        for fmt, tag in ((torch.channels_last, "CL"), (torch.contiguous_format, "NC")):
            x = (
                torch.randn(BATCH, c_in, s, s)
                .contiguous(memory_format=fmt)
                .requires_grad_(True)
            )
            w = (
                (0.02 * torch.randn(c_in, c_out, 4, 4))
                .contiguous(memory_format=fmt)
                .requires_grad_(True)
            )

            def run(f, x=x, w=w, last=c_out <= 3) -> None:
                for _ in range(iters):
                    y = f(x, w)
                    (torch.tanh(y) if last else y).backward(torch.ones_like(y))

            best = {name: float("inf") for name in variants}
            for f in variants.values():
                run(f)  # warm-up
            for _ in range(rounds):
                for name, f in variants.items():
                    best[name] = min(best[name], _timed(lambda f=f: run(f)) / iters)
            print(
                f"  {c_in:3d} -> {c_out:3d} at {s:2d} px {tag}: "
                + "  ".join(
                    f"{name} {t * 1e3:6.1f} ms ({best['plain'] / t:.2f}x)"
                    for name, t in best.items()
                ),
                flush=True,
            )


def compile_lever(rounds: int, iters: int = 3) -> None:
    """``torch.compile`` (inductor, CPU) on each GLO generator's training step, batch 128: the compile time
    (the first forward + backward), then ms per forward + backward + MSE eager and compiled, alternating,
    best of ``rounds``, ratio = eager / compiled (> 1: compiling wins). Inductor fuses BatchNorm + ReLU,
    so this is also the fusion lever."""
    for size, d, c, _ in GLO_SETTINGS:
        _compile_one(size, d, c, rounds, iters)


def _compile_one(size: int, d: int, c: int, rounds: int, iters: int) -> None:
    g = DCGANGenerator(d, c, size)
    z, x = torch.randn(BATCH, d, requires_grad=True), _images(BATCH, c, size)

    def step(f) -> None:
        for _ in range(iters):
            ((f(z) - x) ** 2).mean().backward()  # x_hat: (N, C, s, s)

    compiled = torch.compile(g)
    t_compile = _timed(lambda: ((compiled(z) - x) ** 2).mean().backward())
    step(g), step(compiled)  # warm-up after compiling
    best = {"eager": float("inf"), "compiled": float("inf")}
    for _ in range(rounds):
        best["eager"] = min(best["eager"], _timed(lambda: step(g)) / iters)
        best["compiled"] = min(best["compiled"], _timed(lambda: step(compiled)) / iters)
    print(
        f"  generator {size} px, d={d}, {c} ch: compile {t_compile:.1f} s; eager "
        f"{best['eager'] * 1e3:.1f} ms, compiled {best['compiled'] * 1e3:.1f} ms "
        f"({best['eager'] / best['compiled']:.2f}x)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under a minute: fewer steps and rounds, no breakdown",
    )
    parser.add_argument(
        "--threads",
        default="1,2",
        help="comma-separated torch thread counts (default 1,2)",
    )
    parser.add_argument(
        "--no-layers", action="store_true", help="skip the per-layer breakdown"
    )
    parser.add_argument(
        "--levers",
        action="store_true",
        help="only time each stride-2 layer three ways (levers)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="only time each generator's step eager and under torch.compile",
    )
    args = parser.parse_args()
    threads = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
    if args.levers or args.compile:  # only that lever, at each thread count
        name, lever = (
            ("torch.compile", compile_lever) if args.compile else ("levers", levers)
        )
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            print(f"== {name}, {n_threads} thread(s), load {os.getloadavg()[0]:.2f} ==")
            lever(rounds=2 if args.quick else 4)
        return
    k, rounds = (
        (2, 2) if args.quick else (3, 3)
    )  # steps per timed run (x2 at 32 px), rounds per step
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
        f"{k} steps (32 px GLO: {2 * k}) per run, best of {rounds} rounds"
    )
    seed_everything(0)
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        peak0 = matmul_gflops(repeats=2 if args.quick else 4)
        print(f"\n== {n_threads} thread(s); fp32 matmul {peak0:.1f} GFLOP/s ==")
        measured = []  # (label, nets, seconds per step, flops per step, inputs)
        references = []  # (label, our seconds per step, the reference's, flops per step)
        for size, d, c, loss in GLO_SETTINGS:
            steps = 2 * k if size == 32 else k
            ours, flops, g = glo_ours(size, d, c, loss, steps)
            ref = glo_reference(size, d, c, loss, steps)
            t_ours, t_ref = float("inf"), float("inf")
            for _ in range(
                rounds
            ):  # alternate: drift in the machine's load hits both alike
                t_ours, t_ref = min(t_ours, ours()), min(t_ref, ref())
            n_img = BATCH * steps
            print(
                f"GLO {size} px, d={d}, {c} ch, batch {BATCH}, {loss}: ours {n_img / t_ours:.0f} images/s, "
                f"reference {n_img / t_ref:.0f} images/s, ratio {t_ref / t_ours:.2f}x"
            )
            measured.append(
                (
                    f"GLO {size} px {loss}",
                    g,
                    t_ours / steps,
                    flops,
                    [torch.randn(BATCH, d)],
                )
            )
            references.append(
                (f"GLO {size} px {loss}", t_ours / steps, t_ref / steps, flops)
            )
        for label, make in (
            ("GAN step (G + D, 32 px)", gan_step),
            ("VAE step (32 px)", vae_step),
            ("inversion step (256 codes, 32 px)", invert_step),
        ):
            run, flops, nets = make(k)
            t = min(run() for _ in range(rounds)) / k
            if label.startswith("GAN"):
                inputs = [torch.randn(BATCH, 100), _images(BATCH, 1, 32)]
            elif label.startswith("VAE"):
                inputs = [_images(BATCH, 1, 32)]
            else:
                inputs = [torch.randn(2 * BATCH, 32)]
            measured.append(
                (label, nets if isinstance(nets, tuple) else (nets,), t, flops, inputs)
            )
        peak = (peak0 + matmul_gflops(repeats=2 if args.quick else 4)) / 2
        print(
            f"fraction of the fp32 matmul rate ({peak:.1f} GFLOP/s, mean of before and after):"
        )
        for label, _, t, flops, _ in measured:
            print(
                f"  {label}: {t * 1e3:.0f} ms/step, {flops / 1e9:.2f} GFLOP/step, "
                f"{flops / t / 1e9:.1f} GFLOP/s = {flops / t / 1e9 / peak:.0%}"
            )
        for label, t_ours, t_ref, flops in references:
            # the same FLOPs: a ratio ours / reference above 1 / (reference's fraction) would need more than
            # the matmul rate, so that is the most this FLOP count allows
            f_ref, f_ours = flops / t_ref / 1e9 / peak, flops / t_ours / 1e9 / peak
            print(
                f"  {label}, reference: {t_ref * 1e3:.0f} ms/step = {f_ref:.0%} of matmul; "
                f"ratio ceiling at 100% {1 / f_ref:.2f}x, ours at {f_ours:.0%} gives {f_ours / f_ref:.2f}x"
            )
        if args.no_layers or args.quick:  # --quick: figures only, well under a minute
            continue
        for label, nets, t_step, _, inputs in measured:
            nets = nets if isinstance(nets, tuple) else (nets,)
            if label.startswith("VAE"):
                vae = nets[0]
                nets, inputs = (
                    (vae.encoder, vae.head, vae.decoder),
                    [
                        inputs[0],
                        vae.encoder(inputs[0]).detach(),
                        torch.randn(BATCH, vae.latent_dim),
                    ],
                )
            print_breakdown(
                label, layer_breakdown(nets, inputs, peak, repeats=2), peak, t_step
            )


if __name__ == "__main__":
    main()
