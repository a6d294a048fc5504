"""What a Table 1 run costs on this machine, measured per step and multiplied out, against a time limit.

For one protocol (default ``reference``, the paper's scale: the whole fit part, width 64) every loop of
``glo-teach reference`` is run for a few steps at that protocol's shapes, and its seconds per step are
the difference of two short runs (k1 and k2 steps) divided by k2 - k1, so set-up costs (loading, first
calls) cancel. The run's total is then

    VAE:   vae_epochs * floor(n_fit / batch_size) steps      (train_vae drops the last partial batch)
    DCGAN: gan_steps steps of batch gan_batch (one D and one G update each)
    GLO:   glo_epochs * ceil(n_fit / batch_size) steps
    codes: for each of the code kinds mse, lap1 (and each extra Lap1 reading), each split (train, test)
           and each deep model (VAE, DCGAN, GLO): inversion.steps steps on n_scored images

and the script prints each term, the total, and its ratio to ``--limit-min`` (150 minutes: the issue's
limit per data set). ``--check cpu`` first predicts the ``cpu`` protocol the same way and prints the
prediction next to the wall times recorded in the committed ``reference/<dataset>/table1.json``, a test
of the method on a run that happened. Not part of the test suite; run it alone (another job on the
second core halves torch's speed).

``--record FILE`` writes the figures as JSON (read by the book's page on the reference protocol).
``--compare-plain`` times every loop both with every generator layer PyTorch's own
(``bench/_plain_layers.py``, the "before" of the speed work) and as the library computes it,
alternating, best of ``--rounds`` rounds each (one short timing swings by 20-30% here), and prints
both predictions and their ratio per term (with ``--record``, both go to the JSON).

Usage: ``python bench/reference_cost.py [--dataset mnist] [--protocol reference] [--check cpu] [--record FILE]
[--compare-plain [--rounds 3]]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from glo_teach.gan.train import train_gan
from glo_teach.glo import invert, train_glo
from glo_teach.nets import DCGANDiscriminator, DCGANGenerator
from glo_teach.reference import LATENT_DIMS, get_protocol, load_fit
from glo_teach.reference.protocol import Protocol, glo_loss_kind
from glo_teach.vae import VAE, train_vae

ROOT = Path(__file__).resolve().parents[1]


def _seconds(run, k: int) -> float:
    t = time.perf_counter()
    run(k)
    return time.perf_counter() - t


def per_step(run, k1: int, k2: int) -> float:
    """Seconds per step of ``run(k)`` (k steps): (t(k2) - t(k1)) / (k2 - k1), set-up costs cancelled."""
    run(1)  # warm-up: first calls, allocator
    return max(_seconds(run, k2) - _seconds(run, k1), 0.0) / (k2 - k1)


def cost(
    dataset: str,
    protocol: Protocol,
    k1: int = 3,
    k2: int = 13,
    time_step=per_step,
) -> dict[str, float]:
    """{term: predicted seconds} of a Table 1 run of ``protocol`` on ``dataset`` (see the module docstring)."""
    torch.manual_seed(0)
    fit = load_fit(dataset, protocol)
    d, (c, s) = LATENT_DIMS[dataset], fit.image_shape[:2]
    w, b, n = protocol.width, protocol.batch_size, len(fit)
    vae = lambda k: train_vae(
        VAE(d, c, s, w),
        fit,
        epochs=1,
        batch_size=b,
        lr=protocol.vae_lr,
        sigma=protocol.vae_sigma,
        max_steps=k,
    )
    gan = lambda k: train_gan(
        DCGANGenerator(d, c, s, w),
        DCGANDiscriminator(c, s, w),
        fit,
        steps=k,
        batch_size=protocol.gan_batch,
        lr_g=protocol.gan_lr,
        lr_d=protocol.gan_lr,
    )
    glo = lambda k: train_glo(
        DCGANGenerator(d, c, s, w),
        fit,
        d,
        loss=glo_loss_kind(dataset),
        epochs=1,
        batch_size=b,
        init="gaussian",
        max_steps=k,
        **protocol.glo_settings(),
    )
    g = DCGANGenerator(d, c, s, w).eval()
    x = fit.images[: protocol.n_scored]
    inv = {
        loss: (lambda k, loss=loss: invert(g, x, loss, k, projection=None))
        for loss in ("mse", "lap1")
    }
    t = {
        "VAE": time_step(vae, k1, k2),
        "DCGAN": time_step(gan, k1, k2),
        "GLO": time_step(glo, k1, k2),
        **{f"invert {loss}": time_step(f, k1, k2) for loss, f in inv.items()},
    }
    n_lap1 = 1 + len(protocol.extra_lap1_readings)  # the Lap1 half under each reading
    steps = protocol.inversion.steps
    out = {
        "train VAE": t["VAE"] * protocol.vae_epochs * (n // b),
        "train DCGAN": t["DCGAN"] * protocol.gan_steps,
        "train GLO": t["GLO"] * protocol.glo_epochs * math.ceil(n / b),
        "find codes": 2 * 3 * steps * (t["invert mse"] + n_lap1 * t["invert lap1"]),
    }
    if protocol.max_steps is not None:  # a capped protocol stops its epoch loops early
        out["train VAE"] = t["VAE"] * min(
            protocol.max_steps, protocol.vae_epochs * (n // b)
        )
        out["train GLO"] = t["GLO"] * min(
            protocol.max_steps, protocol.glo_epochs * math.ceil(n / b)
        )
    out["total"] = sum(out.values())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--protocol", default="reference", help="a budget name or reference")
    p.add_argument(
        "--check",
        default=None,
        help="also predict this budget and compare with its committed run",
    )
    p.add_argument("--limit-min", type=float, default=150.0)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument(
        "--record", type=Path, default=None, help="write the figures to this JSON file"
    )
    p.add_argument(
        "--compare-plain",
        action="store_true",
        help="also predict the run with the plain PyTorch layers; print the ratio",
    )
    p.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of --compare-plain"
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.dataset}")
    record = {
        "dataset": args.dataset,
        "protocol": args.protocol,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "limit_min": args.limit_min,
    }
    if args.check:
        predicted = cost(args.dataset, get_protocol(args.check))
        recorded = json.loads(
            (ROOT / "reference" / args.dataset / "table1.json").read_text()
        )
        if recorded["budget"] != args.check:
            raise SystemExit(
                f"reference/{args.dataset} holds the {recorded['budget']!r} run, not {args.check!r}"
            )
        print(
            f"\ncheck on the committed {args.check} run: predicted / recorded wall time"
        )
        record["check"] = {}
        for term, sec in predicted.items():
            rec = recorded["seconds"].get(term)
            if (
                term == "total"
            ):  # the recorded total also holds PCA, the sanity check and the figures
                rec = sum(
                    recorded["seconds"][k]
                    for k in ("train VAE", "train DCGAN", "train GLO", "find codes")
                )
            print(f"  {term:12s} {sec:9.0f} s / {rec:9.0f} s = {sec / rec:.2f}")
            record["check"][term] = {"predicted": sec, "recorded": rec}
    protocol = get_protocol(args.protocol)
    if args.compare_plain:
        sys.path.insert(0, str(ROOT / "bench"))
        from _plain_layers import plain_layers

        best: dict[str, list[float]] = {"plain": [], "ours": []}

        def both(run, k1, k2):  # plain, ours, plain, ours, ...: best of each
            times = {"plain": [], "ours": []}
            for _ in range(args.rounds):
                with plain_layers():
                    times["plain"].append(per_step(run, k1, k2))
                times["ours"].append(per_step(run, k1, k2))
            for k, v in times.items():
                best[k].append(min(v))
            return 0.0

        cost(args.dataset, protocol, time_step=both)
        steps = iter(best["plain"])
        plain = cost(args.dataset, protocol, time_step=lambda *_: next(steps))
        steps = iter(best["ours"])
        predicted = cost(args.dataset, protocol, time_step=lambda *_: next(steps))
    else:
        predicted = cost(args.dataset, protocol)
    print(
        f"\nprotocol {protocol.name!r}: width {protocol.width}, {len(load_fit(args.dataset, protocol))} fit images, "
        f"{protocol.inversion.steps} inversion steps on {protocol.n_scored} images per split"
    )
    for term, sec in predicted.items():
        print(f"  {term:12s} {sec / 60:9.1f} min")
    print(
        f"  ratio to the {args.limit_min:.0f}-minute limit: {predicted['total'] / 60 / args.limit_min:.2f}"
    )
    if args.compare_plain:
        print("\nthe same with the plain PyTorch layers (before) / ours (after):")
        for term, sec in predicted.items():
            print(
                f"  {term:12s} {plain[term] / 60:9.1f} min / {sec / 60:9.1f} min = "
                f"{plain[term] / sec:.2f}"
            )
    if args.record:
        record["reference" if args.protocol == "reference" else args.protocol] = (
            predicted
        )
        if args.compare_plain:
            record["plain layers"] = plain
            record["rounds"] = args.rounds
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
