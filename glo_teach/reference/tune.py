"""Choosing settings on the validation part, never on test images.

Every function here sees fit (training) and validation images only: :func:`tune_protocol` takes the
trained models from the model store (:func:`~glo_teach.reference.store.trained_models`, trained on the
fit part) and validation images from :func:`~glo_teach.reference.protocol.load_validation`, and returns
a new :class:`Protocol` with the validation tables it chose from. The rules, in order:

1. **step sizes**: for each deep model (VAE from mu(x), DCGAN, GLO), the step size of ``step_sizes``
   with the highest validation pSNR (codes by MSE) at the protocol's step count;
2. **inversion steps**: on the curve of pSNR against steps (:func:`~glo_teach.reference.score.inversion_curve`,
   at the chosen step sizes), the smallest step count at which both "DCGAN real" and "GLO real" are within
   ``tol_db`` of their best (:func:`select_steps`); with ``step_ceiling`` (a budget's cost limit) at most that,
   and the record keeps what validation alone would choose;
3. **GLO optimiser** (optional): the candidate of ``glo_candidates`` with the highest validation pSNR,
   GLO retrained on the fit part with each.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..budgets import default_device
from ..data import ImageDataset
from ..glo import invert, train_glo
from ..metrics import psnr_per_image
from ..nets import DCGANGenerator
from ..seed import seed_everything
from .protocol import (
    LATENT_DIMS,
    InversionSettings,
    Protocol,
    glo_loss_kind,
    load_fit,
    load_validation,
)
from .score import decode, find_codes, inversion_curve, mean_se, score_codes

__all__ = [
    "GLO_CANDIDATES",
    "STEP_SIZES",
    "select_step_sizes",
    "select_steps",
    "select_glo_settings",
    "tune_protocol",
    "run_tuning",
    "tuning_markdown",
]

# GLO optimisers tried on validation: today's Adam 3e-3 for theta and its neighbours
GLO_CANDIDATES = [
    {"optimizer": "adam", "lr_g": lr, "lr_z": 1.0} for lr in (1e-3, 3e-3, 1e-2)
]
STEP_SIZES = (
    0.03,
    0.1,
    0.3,
    1.0,
)  # inversion step sizes tried for every deep model (Adam, cosine decay)
_LR_FIELD = {
    "VAE": "vae_lr",
    "DCGAN": "dcgan_lr",
    "GLO": "glo_lr",
}  # model -> InversionSettings field


def select_step_sizes(
    models: dict,
    validation: torch.Tensor,
    inversion: InversionSettings,
    step_sizes=STEP_SIZES,
    seed: int = 0,
) -> tuple[InversionSettings, list[dict]]:
    """(``inversion`` with each deep model's best step size, [{"model", "lr", "psnr": (mean, se, n)}]):
    codes of validation images by MSE with ``inversion.steps`` steps of each size; GLO from a projected
    N(0, I) start (validation images have no learned code), the VAE from mu(x)."""
    table = []
    for lr in step_sizes:
        z = find_codes(
            models,
            validation,
            "mse",
            replace(inversion, dcgan_lr=lr, glo_lr=lr, vae_lr=lr),
            seed=seed,
        )
        for method, per_image in score_codes(models, validation, z).items():
            if method in _LR_FIELD:
                table.append({"model": method, "lr": lr, "psnr": mean_se(per_image)})
    best = {
        m: max((r for r in table if r["model"] == m), key=lambda r: r["psnr"][0])["lr"]
        for m in _LR_FIELD
    }
    return replace(inversion, **{_LR_FIELD[m]: lr for m, lr in best.items()}), table


def select_steps(curve: list[dict], tol_db: float = 0.1) -> int:
    """The smallest step count of an :func:`inversion_curve` (on validation) at which both "DCGAN real"
    and "GLO real" are within ``tol_db`` of their best over the curve."""
    best = {c: max(r[c][0] for r in curve) for c in ("DCGAN real", "GLO real")}
    for r in sorted(curve, key=lambda r: r["steps"]):
        if all(r[c][0] >= best[c] - tol_db for c in best):
            return r["steps"]
    return max(r["steps"] for r in curve)


def select_glo_settings(
    fit: ImageDataset,
    validation: torch.Tensor,
    protocol: Protocol,
    d: int,
    loss: str,
    candidates: list[dict],
    device=None,
    seed: int = 0,
) -> tuple[dict, list[dict]]:
    """(best, [{"settings", "psnr"}]): GLO trained on ``fit`` with each candidate optimiser
    (keywords of :func:`~glo_teach.glo.train_glo`), scored on validation images by inversion under MSE."""
    device = device if device is not None else default_device()
    c, s = fit.image_shape[0], fit.image_shape[1]
    table = []
    for settings in candidates:
        seed_everything(seed)
        g, _, _ = train_glo(
            DCGANGenerator(d, c, s, protocol.width),
            fit,
            d,
            loss=loss,
            epochs=protocol.glo_epochs,
            batch_size=protocol.batch_size,
            init=protocol.glo_init,
            device=device,
            seed=seed,
            max_steps=protocol.max_steps,
            **settings,
        )
        g.eval()
        z = invert(
            g,
            validation,
            "mse",
            protocol.inversion.steps,
            lr=protocol.inversion.glo_lr,
            projection="ball",
            seed=seed,
        )
        table.append(
            {
                "settings": settings,
                "psnr": mean_se(
                    psnr_per_image(validation.cpu(), decode({"G": g}, "G", z).cpu())
                ),
            }
        )
    best = max(table, key=lambda r: r["psnr"][0])
    return best["settings"], table


def tune_protocol(
    dataset: str,
    protocol: Protocol,
    steps_grid=(100, 300, 1000, 3000),
    step_sizes=STEP_SIZES,
    glo_candidates: list[dict] | None = None,
    tol_db: float = 0.1,
    step_ceiling: int | None = None,
    n_val: int | None = None,
    models: dict | None = None,
    device=None,
    seed: int = 0,
) -> tuple[Protocol, dict]:
    """Re-derive the inversion settings (and, with ``glo_candidates``, GLO's optimiser) on validation.

    ``models``: Table 1's models trained with ``protocol`` (default: from the model store); ``n_val``:
    validation images scored (default ``protocol.n_val``). Returns (the protocol with the chosen
    settings, {"step_sizes", "curve", "glo", "chosen", "steps_by_validation", "n_val"}).
    """
    device = torch.device(device) if device is not None else default_device()
    if models is None:
        from .store import (
            trained_models,
        )  # the store imports this package's run and report modules

        models = trained_models(dataset, protocol, seed, device)
    val = load_validation(
        dataset, protocol if n_val is None else replace(protocol, n_val=n_val)
    )
    x = val.images.to(device)
    inversion, lr_table = select_step_sizes(
        models, x, protocol.inversion, step_sizes, seed
    )
    curve = inversion_curve(models, x, inversion, tuple(steps_grid), seed=seed)
    by_validation = select_steps(curve, tol_db)
    steps = by_validation if step_ceiling is None else min(by_validation, step_ceiling)
    inversion = replace(inversion, steps=steps)
    record = {
        "step_sizes": lr_table,
        "curve": curve,
        "glo": [],
        "steps_by_validation": by_validation,
        "step_ceiling": step_ceiling,
        "tol_db": tol_db,
        "n_val": len(x),
    }
    changes = {"inversion": inversion}
    if glo_candidates:
        fit = load_fit(dataset, protocol)
        best, record["glo"] = select_glo_settings(
            fit,
            x,
            replace(protocol, inversion=inversion),
            LATENT_DIMS[dataset],
            glo_loss_kind(dataset),
            glo_candidates,
            device,
            seed,
        )
        changes.update(
            {
                "glo_optimizer": best.get("optimizer", protocol.glo_optimizer),
                "glo_lr_g": best.get("lr_g", protocol.glo_lr_g),
                "glo_lr_z": best.get("lr_z", protocol.glo_lr_z),
            }
        )
    tuned = replace(protocol, **changes)
    record["chosen"] = {
        **{f: getattr(inversion, f) for f in _LR_FIELD.values()},
        "steps": steps,
        "glo": tuned.glo_settings(),
    }
    return tuned, record


def tuning_markdown(before: Protocol, after: Protocol, record: dict) -> str:
    """The validation tables a tuning chose from, and what changed."""
    from .report import _pm, curve_markdown

    lines = [
        f"# Settings chosen on {record['n_val']} validation images (protocol `{before.name}`)",
        "",
        f"Inversion step sizes (codes by MSE, {before.inversion.steps} steps):",
        "",
        "| step size | " + " | ".join(f"{m} (dB)" for m in _LR_FIELD) + " |",
        "| ---: |" + " ---: |" * len(_LR_FIELD),
    ]
    for lr in dict.fromkeys(r["lr"] for r in record["step_sizes"]):
        cells = {r["model"]: r["psnr"] for r in record["step_sizes"] if r["lr"] == lr}
        lines.append(
            f"| {lr:g} | "
            + " | ".join(_pm(cells[m][0], cells[m][1]) for m in _LR_FIELD)
            + " |"
        )
    lines += [
        "",
        f"pSNR against inversion steps (codes by MSE, the chosen step sizes; n = {record['n_val']}):",
        "",
        curve_markdown(record["curve"]),
        "",
        f"Validation alone chooses {record['steps_by_validation']} steps (the smallest within "
        f"{record['tol_db']:g} dB of the best for both the DCGAN and GLO)"
        + (
            f"; the budget's cost limit is {record['step_ceiling']} steps."
            if record["step_ceiling"]
            else "."
        ),
        "",
    ]
    if record["glo"]:
        lines += [
            "GLO optimiser:",
            "",
            "| settings | validation pSNR (dB) |",
            "| --- | ---: |",
        ]
        lines += [
            f"| {r['settings']} | {_pm(r['psnr'][0], r['psnr'][1])} (n = {r['psnr'][2]}) |"
            for r in record["glo"]
        ]
        lines.append("")
    changed = [f"- {k}: {v_b} -> {v_a}" for k, v_b, v_a in _changes(before, after)] or [
        "- nothing"
    ]
    return "\n".join(lines + ["What changed:", ""] + changed + [""])


def _changes(before: Protocol, after: Protocol) -> list[tuple[str, object, object]]:
    a, b = asdict(after), asdict(before)
    out = [
        (f"inversion.{k}", b["inversion"][k], v)
        for k, v in a["inversion"].items()
        if b["inversion"][k] != v
    ]
    return out + [(k, b[k], v) for k, v in a.items() if k != "inversion" and b[k] != v]


def run_tuning(
    dataset: str,
    protocol: Protocol,
    out: str | Path | None = None,
    glo_candidates=GLO_CANDIDATES,
    steps_grid=(100, 300, 1000, 3000),
    step_ceiling: int | None = None,
    n_val: int | None = None,
    device=None,
    seed: int = 0,
) -> tuple[Protocol, dict]:
    """:func:`tune_protocol`, and with ``out`` its record as ``tune.json`` and ``tune.md`` there."""
    tuned, record = tune_protocol(
        dataset,
        protocol,
        steps_grid=steps_grid,
        glo_candidates=glo_candidates,
        step_ceiling=step_ceiling,
        n_val=n_val,
        device=device,
        seed=seed,
    )
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tune.json").write_text(
            json.dumps(
                {
                    "dataset": dataset,
                    "before": asdict(protocol),
                    "after": asdict(tuned),
                    **record,
                },
                indent=1,
                default=str,
            )
        )
        (out / "tune.md").write_text(tuning_markdown(protocol, tuned, record))
    return tuned, record
