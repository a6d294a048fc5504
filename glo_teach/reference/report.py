"""Reporting Table 1: the result record, CSV, Markdown (mean +- standard error, n), per-class table,
the deviations table (every way our run differs from the paper, with its reason), the
inversion-steps curve, and the figures."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from matplotlib.figure import Figure

from ..glo import interpolate
from ..plot import show_images
from .protocol import (
    ROWS,
    SANITY_DB,
    VALIDATED,
    VALIDATION_RESERVED,
    Protocol,
    glo_loss_kind,
)
from .score import decode

__all__ = [
    "Table1Result",
    "write_csv",
    "write_json",
    "read_json",
    "result_from_json",
    "to_markdown",
    "per_class_markdown",
    "deviations",
    "deviations_markdown",
    "curve_markdown",
    "figures",
    "lap1_reading_gaps",
    "lap1_drop_gaps",
    "CODES_LABEL",
]

CODES_LABEL = {
    "mse": "MSE",
    "lap1": "Lap1",
    "encoder": "encoder μ(x)",
    "lap1-coefficient": "Lap1, coefficient reading",
    "lap1-level": "Lap1, level reading",
}


@dataclass
class Table1Result:
    """Rows ``{"method", "codes", "train", "train_se", "test", "test_se", "paper_train", "paper_test"}``
    (pSNR in dB: mean and standard error over the scored images, NaN if none)."""

    dataset: str
    budget: str
    latent_dim: int
    rows: list[dict]
    sanity_psnr: float  # DCGAN inverting its own samples at the real images' settings: mean pSNR (dB)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    n_train: int = 0  # images the models were trained on
    n_eval: tuple[int, int] = (0, 0)  # images scored per split (train, test)
    sanity_above: float = (
        math.nan
    )  # share of those samples reconstructed above SANITY_DB
    # test pSNR per class (codes by MSE), {method: [dB for class 0, 1, ...]}; empty for unlabelled data
    per_class: dict[str, list[float]] = field(default_factory=dict)
    class_counts: list[int] = field(
        default_factory=list
    )  # scored test images per class
    class_names: tuple[str, ...] = ()
    # samples of the generative models, {"VAE" | "DCGAN" | "GLO": (n, C, H, W)} on the CPU
    samples: dict[str, torch.Tensor] = field(default_factory=dict)
    sanity_se: float = math.nan  # standard error of sanity_psnr
    sanity_n: int = 0  # own samples inverted
    protocol: Protocol | None = None  # every setting of the run
    deviations: list[dict] = field(default_factory=list)  # from :func:`deviations`
    # test pSNR of every scored image, {"<method> <codes>": [dB, ...]} in the order of load_test's images
    per_image_test: dict[str, list[float]] = field(default_factory=dict)


def write_csv(result: Table1Result, path: str | Path) -> None:
    """One row per (method, codes): scores with standard errors and n per split, and the paper's numbers."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "dataset",
                "budget",
                "method",
                "codes",
                "train_psnr",
                "train_se",
                "n_train",
                "test_psnr",
                "test_se",
                "n_test",
                "paper_train",
                "paper_test",
            ]
        )
        for r in result.rows:
            writer.writerow(
                [
                    result.dataset,
                    result.budget,
                    r["method"],
                    r["codes"],
                    f"{r['train']:.2f}",
                    _fmt(r.get("train_se", math.nan), 2),
                    result.n_eval[0],
                    f"{r['test']:.2f}",
                    _fmt(r.get("test_se", math.nan), 2),
                    result.n_eval[1],
                    _fmt(r["paper_train"]),
                    _fmt(r["paper_test"]),
                ]
            )


def write_json(
    result: Table1Result,
    path: str | Path,
    seed: int | None = None,
    command: list[str] | None = None,
) -> None:
    """Every score with its standard error and n, each scored test image's pSNR, the per-class scores, the
    sanity check, the protocol (every setting), the deviations, wall times, the seed, the command line
    (``command``, else ``sys.argv``), the library commit and torch's version."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                cwd=Path(__file__).resolve().parent,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    record = {
        "dataset": result.dataset,
        "budget": result.budget,
        "latent_dim": result.latent_dim,
        "n_train": result.n_train,
        "n_scored": {"train": result.n_eval[0], "test": result.n_eval[1]},
        "rows": [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in r.items()
            }
            for r in result.rows
        ],
        "sanity": {
            "psnr": result.sanity_psnr,
            "se": _none(result.sanity_se),
            "n": result.sanity_n,
            "share_above": _none(result.sanity_above),
        },
        "protocol": asdict(result.protocol) if result.protocol is not None else None,
        "deviations": result.deviations,
        "seconds": result.seconds,
        "seed": seed,
        "per_class": {
            m: [_none(v) for v in vals] for m, vals in result.per_class.items()
        },
        "class_counts": result.class_counts,
        "class_names": list(result.class_names),
        "per_image_test": result.per_image_test,
        "command": list(command) if command is not None else sys.argv,
        "commit": commit,
        "torch": torch.__version__,
    }
    Path(path).write_text(json.dumps(record, indent=1, ensure_ascii=False))


def read_json(path: str | Path) -> dict:
    """The record :func:`write_json` wrote (NaN stored as null)."""
    return json.loads(Path(path).read_text())


def result_from_json(
    record: dict, samples: dict[str, torch.Tensor] | None = None
) -> Table1Result:
    """The :class:`Table1Result` of a record :func:`write_json` wrote (``samples``, not stored there, given apart)."""
    nan = lambda v: math.nan if v is None else v  # noqa: E731
    rows = [
        {k: nan(v) if k not in ("method", "codes") else v for k, v in r.items()}
        for r in record["rows"]
    ]
    sanity = record["sanity"]
    return Table1Result(
        record["dataset"],
        record["budget"],
        record["latent_dim"],
        rows,
        sanity["psnr"],
        record.get("seconds", {}),
        record["n_train"],
        (record["n_scored"]["train"], record["n_scored"]["test"]),
        nan(sanity["share_above"]),
        {m: [nan(v) for v in vals] for m, vals in record.get("per_class", {}).items()},
        record.get("class_counts", []),
        tuple(record.get("class_names", ())),
        samples or {},
        sanity_se=nan(sanity["se"]),
        sanity_n=sanity["n"],
        protocol=Protocol.from_dict(record["protocol"])
        if record.get("protocol")
        else None,
        deviations=record.get("deviations", []),
        per_image_test=record.get("per_image_test", {}),
    )


def _none(v: float) -> float | None:
    return None if v is None or math.isnan(v) else v


def _fmt(v: float, digits: int = 1) -> str:
    """A blank for NaN (no number), otherwise ``digits`` decimals."""
    return "" if v is None or math.isnan(v) else f"{v:.{digits}f}"


def _pm(mean: float, se: float) -> str:
    return f"{mean:.2f}" if se is None or math.isnan(se) else f"{mean:.2f} ± {se:.2f}"


def to_markdown(result: Table1Result, title: bool = True) -> str:
    """Table 1 as Markdown: ours (mean ± standard error, n stated) next to the paper's, the sanity check,
    and the deviations table when the result carries one. ``title=False`` leaves out the level-1 heading."""
    heading = (
        [
            f"# Table 1, {result.dataset} (d = {result.latent_dim}), budget `{result.budget}`",
            "",
        ]
        if title
        else []
    )
    lines = heading + [
        f"pSNR (dB) of reconstructions, mean ± standard error over the scored images; models trained on "
        f"{result.n_train} images, scored on n = {result.n_eval[0]} training and n = {result.n_eval[1]} test images.",
        "",
        "| method | codes found by | train | test | paper train | paper test |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in result.rows:
        lines.append(
            f"| {r['method']} | {CODES_LABEL[r['codes']]} | {_pm(r['train'], r.get('train_se'))} | "
            f"{_pm(r['test'], r.get('test_se'))} | {_fmt(r['paper_train'])} | {_fmt(r['paper_test'])} |"
        )
    gaps, drops = lap1_reading_gaps(result), lap1_drop_gaps(result)
    if len(gaps) > 1:
        lines += [
            "",
            "Lap1 half against the paper's test column, mean |ours − paper| over its rows: "
            + ", ".join(f"`{k}` reading {v:.2f} dB" for k, v in gaps.items())
            + "; the drop from MSE codes to Lap1 codes, mean |ours − the paper's| over the deep "
            "models (blind to how well a model is trained, which shifts both halves): "
            + ", ".join(f"`{k}` reading {v:.2f} dB" for k, v in drops.items())
            + ".",
        ]
    verdict = "passes" if result.sanity_psnr > SANITY_DB else "does not reach"
    share = (
        ""
        if math.isnan(result.sanity_above)
        else f"; {result.sanity_above:.0%} of them above it"
    )
    effort = (
        ""
        if result.protocol is None
        else (
            f", with the real images' {result.protocol.inversion.steps} steps at step size {result.protocol.inversion.dcgan_lr}"
        )
    )
    se = "" if math.isnan(result.sanity_se) else f" ± {result.sanity_se:.1f}"
    n = f" (n = {result.sanity_n})" if result.sanity_n else ""
    lines += [
        "",
        f"Sanity check: the DCGAN reconstructs its own samples{n} at {result.sanity_psnr:.1f}{se} dB{effort} "
        f"({verdict} the paper's > {SANITY_DB:.0f} dB{share}).",
        "",
    ]
    if result.deviations:
        lines += [
            "Where this run differs from the paper:",
            "",
            deviations_markdown(result.deviations),
            "",
        ]
    lines += [
        "Wall time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def per_class_markdown(result: Table1Result) -> str:
    """Test pSNR (dB, codes by MSE) per class as Markdown, one column per method and GLO - DCGAN last.

    The last row is the test column of Table 1, sum_k N_k pSNR_k / N (Book: {eq}`psnr-per-class`).
    """
    if not result.per_class:
        raise ValueError(
            f"{result.dataset} has no class labels, so no per-class scores"
        )
    methods = [m for m, c in ROWS if c == "mse"]
    lines = [
        "| class | test images | " + " | ".join(methods) + " | GLO − DCGAN |",
        "| --- | ---: | " + " | ".join("---:" for _ in methods) + " | ---: |",
    ]
    for k, name in enumerate(result.class_names):
        v = {m: result.per_class[m][k] for m in methods}
        lines.append(
            f"| {name} | {result.class_counts[k]} | "
            + " | ".join(_fmt(v[m], 2) for m in methods)
            + f" | {_fmt(v['GLO'] - v['DCGAN'], 2)} |"
        )
    total = {r["method"]: r["test"] for r in result.rows if r["codes"] == "mse"}
    lines.append(
        f"| all | {sum(result.class_counts)} | "
        + " | ".join(f"{total[m]:.2f}" for m in methods)
        + f" | {total['GLO'] - total['DCGAN']:.2f} |"
    )
    return "\n".join(lines)


def lap1_reading_gaps(result: Table1Result) -> dict[str, float]:
    """{reading: mean over the Lap1-half rows of |our test pSNR - the paper's|} for every reading the run has
    (codes "lap1" count as the protocol's own reading); rows without a paper number are left out."""
    own = (
        result.protocol.inversion.lap1_reading
        if result.protocol is not None
        else "coefficient"
    )
    gaps: dict[str, list[float]] = {}
    for r in result.rows:
        if r["codes"] == "lap1" or r["codes"].startswith("lap1-"):
            reading = own if r["codes"] == "lap1" else r["codes"][len("lap1-") :]
            if not math.isnan(r["paper_test"]):
                gaps.setdefault(reading, []).append(abs(r["test"] - r["paper_test"]))
    return {k: sum(v) / len(v) for k, v in gaps.items()}


def lap1_drop_gaps(result: Table1Result) -> dict[str, float]:
    """{reading: mean over the deep models m with paper numbers of |D_ours(m) - D_paper(m)|}, where
    D(m) = test pSNR of m's MSE codes - test pSNR of m's Lap1 codes (under that reading): how far each
    reading's drop from the MSE half to the Lap1 half is from the paper's. A model trained less than the
    paper's lowers both of its halves alike, which this difference cancels and
    :func:`lap1_reading_gaps` does not."""
    own = (
        result.protocol.inversion.lap1_reading
        if result.protocol is not None
        else "coefficient"
    )
    test = {(r["method"], r["codes"]): r for r in result.rows}
    drops: dict[str, list[float]] = {}
    for (m, codes), r in test.items():
        if m == "PCA" or not (codes == "lap1" or codes.startswith("lap1-")):
            continue
        reading = own if codes == "lap1" else codes[len("lap1-") :]
        mse = test.get((m, "mse"))
        if mse is None or math.isnan(mse["paper_test"]) or math.isnan(r["paper_test"]):
            continue
        ours = mse["test"] - r["test"]
        paper = mse["paper_test"] - r["paper_test"]
        drops.setdefault(reading, []).append(abs(ours - paper))
    return {k: sum(v) / len(v) for k, v in drops.items()}


def deviations(
    protocol: Protocol,
    dataset: str,
    n_train_split: int | None = None,
    tuning: dict | None = None,
) -> list[dict]:
    """Every way a run with ``protocol`` differs from the paper: [{"what", "paper", "ours", "reason"}].

    Generated from the settings themselves, so a changed setting changes the table. ``n_train_split``:
    the size of the data set's training split (for the row on training images). ``tuning``: this data
    set's own tuning record (``tune.json`` of ``glo-teach tune``), when its settings came from another's:
    the row on where they were chosen then says how its own validation part compares.
    """
    p, inv = protocol, protocol.inversion
    rows = []

    def add(what, paper, ours, reason):
        rows.append({"what": what, "paper": paper, "ours": ours, "reason": reason})

    n_fit = "all" if p.n_fit is None else f"{p.n_fit:,}"
    held = f"{VALIDATION_RESERVED:,} held out for validation"
    add(
        "training images",
        "the whole training split" + (f" ({n_train_split:,})" if n_train_split else ""),
        f"{n_fit} of the fit part ({held})",
        "settings are chosen on a validation part carved from the training split"
        + ("" if p.n_fit is None else f"; budget `{p.name}`"),
    )
    if p.width != 64:
        add(
            "generator width",
            "64 (DCGAN default)",
            str(p.width),
            f"compute: budget `{p.name}`",
        )
    add(
        "GLO optimiser",
        "SGD, lr 1 for θ and 10 for z, projection",
        f"{p.glo_optimizer.capitalize()} lr {p.glo_lr_g:g} for θ, SGD lr {p.glo_lr_z:g} for z, projection",
        "the paper's SGD saturates our tanh generator on MNIST within ten steps (10.3 dB)"
        + (
            "; θ's step size chosen on validation (`glo-teach tune`, reference/tune/mnist-cpu.json)"
            if p.name in VALIDATED
            else ""
        ),
    )
    add(
        "GLO initialisation",
        "Gaussian (CelebA) or PCA (LSUN); not stated for MNIST/SVHN",
        {"pca": "top d principal components", "gaussian": "Gaussian"}.get(
            p.glo_init, p.glo_init
        ),
        "not stated by the paper",
    )
    add(
        "GLO epochs",
        "not stated",
        str(p.glo_epochs),
        "not stated by the paper" if p.name == "reference" else f"budget `{p.name}`",
    )
    vae_loss = "MSE" if glo_loss_kind(dataset) == "mse" else "ℓ2 + Lap1"
    add(
        "VAE loss",
        f"{vae_loss} (the GLO loss)",
        f"Gaussian likelihood, σ = {p.vae_sigma:g} (MSE / 2σ²)",
        "equal to MSE up to scale"
        if vae_loss == "MSE"
        else "one likelihood for every data set",
    )
    if p.vae_epochs != 25:
        add("VAE epochs", "25", str(p.vae_epochs), f"compute: budget `{p.name}`")
    if p.max_steps is not None:
        add(
            "training length",
            "every epoch",
            f"VAE and GLO stop after {p.max_steps} optimiser steps",
            "`$GLO_TEACH_STEP_CAP`: a check of shapes and memory at the budget's sizes, not of quality",
        )
    add(
        "DCGAN training",
        "default hyper-parameters, many seeds (best kept)",
        f"one seed, {p.gan_steps:,} generator steps, Adam {p.gan_lr:g}, β1 = {p.gan_beta1:g}, batch {p.gan_batch}",
        "one seed per run; steps fixed by the budget",
    )
    add(
        "code finding",
        "backpropagation to the code (optimiser and steps not stated)",
        f"Adam with cosine decay, {inv.steps} steps; step size DCGAN {inv.dcgan_lr:g}, GLO {inv.glo_lr:g} "
        f"(unit ball), VAE {inv.vae_lr:g} from μ(x); the DCGAN's own samples get the same",
        (
            "step sizes chosen on validation (reference/tune/mnist-cpu.json); validation alone chose 3000 steps, "
            "1000 are within 0.15 dB of it at a third of the cost"
            if p.name in VALIDATED
            else "not stated by the paper"
        )
        + "; equal effort for own samples and real images",
    )
    if p.name in VALIDATED and dataset != "mnist":
        add(
            "settings chosen on",
            "—",
            "MNIST's validation part",
            "not re-tuned on this data set's validation part: "
            "compute; the same rules would re-derive them (`glo-teach tune`)"
            if tuning is None
            else own_validation_check(p, tuning),
        )
    add(
        "VAE codes",
        'the encoder ("straightforward", Sec. 4.4)',
        "μ(x) alone as its own row, and inversion from μ(x) under MSE and under Lap1",
        "the same code-finding procedure in both halves for every deep model",
    )
    add(
        "Lap1",
        "Σ_j 2^{2j} |L^j(x) − L^j(x')|_1 (normalisation not stated)",
        f"reading `{inv.lap1_reading}`: "
        + (
            "Σ_k 4^-k mean|ΔL_k| (every coefficient equal)"
            if inv.lap1_reading == "coefficient"
            else "Σ_k mean|ΔL_k| (every level equal)"
        ),
        "two readings in use; the choice awaits the reference runs"
        + (
            f" (this run also reports the Lap1 half under `{'`, `'.join(p.extra_lap1_readings)}`)"
            if p.extra_lap1_readings
            else ""
        ),
    )
    add(
        "scored images",
        "not stated",
        f"n = {p.n_scored:,} per split (fewer if the split is smaller), mean ± SE",
        "compute"
        if p.name != "reference"
        else "enough for a standard error near 0.1 dB",
    )
    return rows


def own_validation_check(protocol: Protocol, tuning: dict) -> str:
    """How the settings ``protocol`` uses fare on another data set's own tuning record (``tune.json``):
    for each step size and GLO's theta step, the same choice, or the validation pSNR its own choice gains
    over the one used (mean difference, against the standard error of the used one)."""
    inv, chosen = protocol.inversion, tuning["chosen"]
    by_lr = {(r["model"], r["lr"]): r["psnr"] for r in tuning["step_sizes"]}
    by_glo = {r["settings"]["lr_g"]: r["psnr"] for r in tuning["glo"]}
    items = [
        (
            f"{m} step size",
            by_lr[m, chosen[k]],
            by_lr[m, getattr(inv, k)],
            chosen[k],
            getattr(inv, k),
        )
        for m, k in (("DCGAN", "dcgan_lr"), ("GLO", "glo_lr"), ("VAE", "vae_lr"))
    ] + [
        (
            "GLO's θ step",
            by_glo[chosen["glo"]["lr_g"]],
            by_glo[protocol.glo_lr_g],
            chosen["glo"]["lr_g"],
            protocol.glo_lr_g,
        )
    ]
    same = [name for name, _, _, own, used in items if own == used]
    parts = [f"the same {', '.join(same)}"] if same else []
    parts += [
        f"{name} {own:g} instead of {used:g}, {a[0] - b[0]:+.3f} dB (SE {b[1]:.2f})"
        for name, a, b, own, used in items
        if own != used
    ]
    return (
        f"re-checked on this data set's own validation part ({tuning['n_val']} images, "
        f"`glo-teach tune`): " + "; ".join(parts)
    )


def deviations_markdown(rows: list[dict]) -> str:
    """The deviations table as Markdown: what, the paper, ours, why."""
    lines = ["| what | paper | ours | reason |", "| --- | --- | --- | --- |"]
    lines += [
        "| "
        + " | ".join(
            str(r[k]).replace("|", "\\|") for k in ("what", "paper", "ours", "reason")
        )
        + " |"
        for r in rows
    ]  # a "|" inside a cell is escaped
    return "\n".join(lines)


def curve_markdown(rows: list[dict]) -> str:
    """The inversion-steps curve of :func:`glo_teach.reference.score.inversion_curve` as Markdown."""
    cols = [k for k in rows[0] if k != "steps"]
    lines = [
        "| steps | " + " | ".join(f"{c} (dB)" for c in cols) + " |",
        "| ---: |" + " ---: |" * len(cols),
    ]
    for r in rows:
        lines.append(
            f"| {r['steps']} | "
            + " | ".join(f"{_pm(r[c][0], r[c][1])} (n = {r[c][2]})" for c in cols)
            + " |"
        )
    return "\n".join(lines)


def figures(
    models: dict,
    samples: dict[str, torch.Tensor],
    x_test: torch.Tensor,
    z_test: dict[str, torch.Tensor],
    out: Path,
) -> None:
    """samples.png, reconstructions.png and interpolations.png (codes of test images found by MSE)."""
    n = min(16, len(x_test))
    _grid({m: x[:n] for m, x in samples.items()}, n, out / "samples.png", "samples")

    recon = {"test images": x_test[:n]}
    recon.update(
        {m: decode(models, m, z_test[m][:n]) for m in ("PCA", "VAE", "DCGAN", "GLO")}
    )
    _grid(recon, n, out / "reconstructions.png", "reconstructions (codes by MSE)")

    pairs = [(0, 1), (2, 3)] if len(x_test) >= 4 else [(0, len(x_test) - 1)]
    interp = {
        f"{m}, test {a} to {b}": decode(
            models, m, interpolate(z_test[m][a], z_test[m][b], 10)
        )
        for m in ("VAE", "DCGAN", "GLO")
        for a, b in pairs
    }
    _grid(interp, 10, out / "interpolations.png", "interpolations between test codes")


def _grid(rows: dict[str, torch.Tensor], ncol: int, path: Path, title: str) -> None:
    """One labelled image row per entry of ``rows``, saved as a PNG (no pyplot: the backend stays untouched)."""
    fig = Figure(figsize=(0.6 * ncol, 0.75 * len(rows) + 0.4))
    axes = fig.subplots(len(rows), 1, squeeze=False)
    for ax, (name, images) in zip(axes[:, 0], rows.items()):
        show_images(images.detach().float().cpu().clamp(-1, 1), nrow=ncol, ax=ax)
        ax.set_title(name, fontsize=8, loc="left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
