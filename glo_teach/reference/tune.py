"""Choosing settings on the validation part, never on test images.

Every function here receives fit (training) and validation images only; :func:`tune_protocol` loads
them with :func:`~glo_teach.reference.protocol.load_fit` and
:func:`~glo_teach.reference.protocol.load_validation` and returns a new :class:`Protocol`
together with the validation tables it chose from. Rules, stated so they can be re-run:

- DCGAN inversion step size: the one of ``dcgan_lrs`` with the highest validation pSNR (codes by
  MSE) at the largest step count of ``steps_grid``;
- inversion steps: the smallest of ``steps_grid`` at which both the DCGAN's and GLO's validation
  pSNR are within ``tol_db`` of their best over the grid (:func:`glo_teach.reference.score.inversion_curve`);
- GLO optimiser (optional): the candidate of ``glo_candidates`` with the highest validation pSNR.
"""

from __future__ import annotations

from dataclasses import replace

import json
from dataclasses import asdict
from pathlib import Path

import torch

from ..budgets import default_device
from ..data import ImageDataset
from ..glo import invert, train_glo
from ..metrics import psnr_per_image
from ..nets import DCGANGenerator
from ..seed import seed_everything
from .protocol import LATENT_DIMS, InversionSettings, Protocol, glo_loss_kind, load_fit, load_validation
from .score import decode, inversion_curve, mean_se
from .train import train_models

__all__ = ["GLO_CANDIDATES", "select_dcgan_lr", "select_steps", "select_glo_settings", "tune_protocol", "run_tuning",
           "tuning_markdown"]

# GLO optimisers tried on validation by `glo-teach tune`: today's Adam 3e-3 for theta and its neighbours
GLO_CANDIDATES = [{"optimizer": "adam", "lr_g": lr, "lr_z": 1.0} for lr in (1e-3, 3e-3, 1e-2)]


def select_dcgan_lr(dcgan, validation: torch.Tensor, steps: int, dcgan_lrs=(0.1, 0.3, 1.0), seed: int = 0
                    ) -> tuple[float, list[dict]]:
    """(best step size, [{"dcgan_lr", "psnr": (mean, se, n)}]) of DCGAN inversion by MSE on validation images."""
    table = []
    for lr in dcgan_lrs:
        z = invert(dcgan, validation, "mse", steps, lr=lr, projection=None, seed=seed)
        table.append({"dcgan_lr": lr, "psnr": mean_se(psnr_per_image(validation.cpu(), decode({"D": dcgan}, "D", z).cpu()))})
    best = max(table, key=lambda r: r["psnr"][0])
    return best["dcgan_lr"], table


def select_steps(curve: list[dict], tol_db: float = 0.1) -> int:
    """The smallest step count of an :func:`inversion_curve` (on validation) at which both "DCGAN real"
    and "GLO real" are within ``tol_db`` of their best over the curve."""
    best = {c: max(r[c][0] for r in curve) for c in ("DCGAN real", "GLO real")}
    for r in sorted(curve, key=lambda r: r["steps"]):
        if all(r[c][0] >= best[c] - tol_db for c in best):
            return r["steps"]
    return max(r["steps"] for r in curve)


def select_glo_settings(fit: ImageDataset, validation: torch.Tensor, protocol: Protocol, d: int, loss: str,
                        candidates: list[dict], device=None, seed: int = 0) -> tuple[dict, list[dict]]:
    """(best, [{"settings", "psnr"}]): GLO trained on ``fit`` with each candidate optimiser
    (keywords of :func:`~glo_teach.glo.train_glo`), scored on validation images by inversion under MSE."""
    device = device if device is not None else default_device()
    c, s = fit.image_shape[0], fit.image_shape[1]
    table = []
    for settings in candidates:
        seed_everything(seed)
        g, _, _ = train_glo(DCGANGenerator(d, c, s, protocol.width), fit, d, loss=loss, epochs=protocol.glo_epochs,
                            batch_size=protocol.batch_size, init=protocol.glo_init, device=device, seed=seed, **settings)
        g.eval()
        z = invert(g, validation, "mse", protocol.inversion.steps, lr=protocol.inversion.glo_lr, projection="ball",
                   seed=seed)
        table.append({"settings": settings, "psnr": mean_se(psnr_per_image(validation.cpu(), decode({"G": g}, "G", z).cpu()))})
    best = max(table, key=lambda r: r["psnr"][0])
    return best["settings"], table


def tune_protocol(dataset: str, protocol: Protocol, steps_grid=(100, 300, 1000, 3000), dcgan_lrs=(0.1, 0.3, 1.0),
                  glo_candidates: list[dict] | None = None, tol_db: float = 0.1, device=None, seed: int = 0
                  ) -> tuple[Protocol, dict]:
    """Re-derive the inversion settings (and, with ``glo_candidates``, GLO's optimiser) on validation.

    Returns (the protocol with the chosen settings, {"dcgan_lr": table, "curve": rows, "glo": table,
    "chosen": {...}}). Loads the fit part and the validation part only.
    """
    device = torch.device(device) if device is not None else default_device()
    fit, val = load_fit(dataset, protocol), load_validation(dataset, protocol)
    d = LATENT_DIMS[dataset]
    models = train_models(fit, d, protocol, glo_loss_kind(dataset), device, seed)
    x = val.images.to(device)
    lr, lr_table = select_dcgan_lr(models["DCGAN"], x, max(steps_grid), dcgan_lrs, seed)
    inversion: InversionSettings = replace(protocol.inversion, dcgan_lr=lr)
    curve = inversion_curve(models, x, inversion, tuple(steps_grid), seed=seed)
    inversion = replace(inversion, steps=select_steps(curve, tol_db))
    record = {"dcgan_lr": lr_table, "curve": curve, "glo": []}
    changes = {"inversion": inversion}
    if glo_candidates:
        best, record["glo"] = select_glo_settings(fit, x, replace(protocol, inversion=inversion), d,
                                                  glo_loss_kind(dataset), glo_candidates, device, seed)
        changes.update({"glo_optimizer": best.get("optimizer", protocol.glo_optimizer),
                        "glo_lr_g": best.get("lr_g", protocol.glo_lr_g), "glo_lr_z": best.get("lr_z", protocol.glo_lr_z)})
    tuned = replace(protocol, **changes)
    record["chosen"] = {"dcgan_lr": tuned.inversion.dcgan_lr, "steps": tuned.inversion.steps,
                        "glo": tuned.glo_settings()}
    return tuned, record


def tuning_markdown(before: Protocol, after: Protocol, record: dict) -> str:
    """The validation tables a tuning chose from, and what changed."""
    from .report import _pm, curve_markdown

    lines = [f"# Settings chosen on {record.get('n_val', before.n_val)} validation images (protocol `{before.name}`)", "",
             "DCGAN inversion step size (codes by MSE):", "", "| step size | validation pSNR (dB) |", "| ---: | ---: |"]
    lines += [f"| {r['dcgan_lr']:g} | {_pm(r['psnr'][0], r['psnr'][1])} (n = {r['psnr'][2]}) |" for r in record["dcgan_lr"]]
    lines += ["", "pSNR against inversion steps (codes by MSE):", "", curve_markdown(record["curve"]), ""]
    if record["glo"]:
        lines += ["GLO optimiser:", "", "| settings | validation pSNR (dB) |", "| --- | ---: |"]
        lines += [f"| {r['settings']} | {_pm(r['psnr'][0], r['psnr'][1])} (n = {r['psnr'][2]}) |" for r in record["glo"]]
        lines.append("")
    changed = [f"- {k}: {v_b} -> {v_a}" for k, v_b, v_a in _changes(before, after)] or ["- nothing"]
    return "\n".join(lines + ["What changed:", ""] + changed + [""])


def _changes(before: Protocol, after: Protocol) -> list[tuple[str, object, object]]:
    a, b = asdict(after), asdict(before)
    out = [(f"inversion.{k}", b["inversion"][k], v) for k, v in a["inversion"].items() if b["inversion"][k] != v]
    return out + [(k, b[k], v) for k, v in a.items() if k != "inversion" and b[k] != v]


def run_tuning(dataset: str, protocol: Protocol, out: str | Path | None = None, glo_candidates=GLO_CANDIDATES,
               steps_grid=(100, 300, 1000, 3000), device=None, seed: int = 0) -> tuple[Protocol, dict]:
    """:func:`tune_protocol`, and with ``out`` its record as ``tune.json`` and ``tune.md`` there."""
    tuned, record = tune_protocol(dataset, protocol, steps_grid=steps_grid, glo_candidates=glo_candidates,
                                  device=device, seed=seed)
    record["n_val"] = protocol.n_val
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tune.json").write_text(json.dumps({"dataset": dataset, "before": asdict(protocol),
                                                   "after": asdict(tuned), **record}, indent=1, default=str))
        (out / "tune.md").write_text(tuning_markdown(protocol, tuned, record))
    return tuned, record
