"""Code finding and scoring: one procedure for every model, one :class:`InversionSettings` for every image.

Codes of images x, for codes = "mse" or "lap1" (the two halves of Table 1; Book: {eq}`glo-inversion`):
PCA: its projection (MSE half only); VAE: gradient descent through the frozen decoder from mu(x);
DCGAN: from a N(0, I) start, unconstrained; GLO: from its learned code for a training image, else from
a N(0, I) start projected on the unit ball. With codes = "encoder", the VAE's mu(x) alone.

Scores: pSNR per image {eq}`psnr`, reported as mean +- standard error s / sqrt(n) over the n scored
images (:func:`mean_se`). The sanity check inverts the DCGAN's own samples with the *same*
``InversionSettings`` as its real images, so the gap between the two measures coverage, not effort;
:func:`inversion_curve` shows both (and GLO) against the number of steps.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path

import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from ..glo import invert
from ..metrics import psnr_per_image
from .protocol import SANITY_DB, InversionSettings

__all__ = [
    "find_codes",
    "decode",
    "mean_se",
    "score_codes",
    "sanity_check",
    "own_samples",
    "inversion_curve",
]


def find_codes(
    models: dict,
    x: torch.Tensor,
    codes: str,
    inversion: InversionSettings,
    glo_init: torch.Tensor | None = None,
    seed: int = 0,
    device=None,
    resume_dir: str | Path | None = None,
) -> dict[str, torch.Tensor]:
    """{method: codes (N, d)} of images ``x`` for every model, under ``codes``: "mse", "lap1" (Lap1 in
    ``inversion.lap1_reading``), "lap1-coefficient" / "lap1-level" (Lap1 in that reading) or "encoder".

    ``resume_dir``: each model's codes are saved there (one checkpoint, an entry per model) as soon as they
    are found, under a SHA-256 of every input of its search (weights, images, start, settings, seed); a
    rerun after a kill loads the entries whose inputs are unchanged and searches only the others.
    """
    if codes.startswith("lap1-"):
        inversion = replace(
            inversion, lap1_reading=codes[len("lap1-") :]
        )  # validated by InversionSettings
        codes = "lap1"
    if codes not in ("mse", "lap1", "encoder"):
        raise ValueError(
            f"codes must be 'mse', 'lap1', 'lap1-<reading>' or 'encoder', got {codes!r}"
        )
    device = device if device is not None else next(models["DCGAN"].parameters()).device
    x = x.to(device)
    mu = models["VAE"].encode(x)[0].detach()  # the VAE's posterior mean, (N, d)
    if codes == "encoder":
        return {"VAE": mu}
    out = {}
    if codes == "mse":
        out["PCA"] = models["PCA"].encode(x)
    common = {
        "steps": inversion.steps,
        "seed": seed,
        "lap1_reading": inversion.lap1_reading,
    }

    saved = None if resume_dir is None else (load_checkpoint(resume_dir) or {})

    def search(method: str, generator, init, lr: float, projection) -> torch.Tensor:
        """invert(), or the codes saved in ``resume_dir`` for the same inputs; new codes are saved at once."""
        key = (
            None
            if saved is None
            else _search_key(
                method, common, codes, lr, projection, models[method], x, init
            )
        )
        if key is not None and saved.get(method, {}).get("key") == key:
            return saved[method]["z"].to(device)
        z = invert(
            generator, x, codes, lr=lr, init=init, projection=projection, **common
        )
        if key is not None:
            saved[method] = {"key": key, "z": z.detach().cpu()}
            save_checkpoint(resume_dir, saved)
        return z

    # the VAE's and the DCGAN's codes are unconstrained (prior N(0, I)), GLO's live in the unit ball
    out["VAE"] = search("VAE", models["VAE"].decoder, mu, inversion.vae_lr, None)
    out["DCGAN"] = search(
        "DCGAN", models["DCGAN"], "gaussian", inversion.dcgan_lr, None
    )
    glo_start = glo_init if glo_init is not None else "gaussian"
    out["GLO"] = search("GLO", models["GLO"], glo_start, inversion.glo_lr, "ball")
    return out


def _search_key(*parts) -> str:
    """SHA-256 of nested tuples of strings, numbers, dicts of those, modules and tensors (every tensor by
    dtype, shape and bytes, a module by its state_dict): the key of one code search's inputs."""
    h = hashlib.sha256()

    def feed(part) -> None:
        if isinstance(part, torch.Tensor):
            t = part.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(part, torch.nn.Module):
            for name, t in part.state_dict().items():
                h.update(name.encode())
                feed(t)
        elif isinstance(part, (tuple, list)):
            h.update(b"(")
            for p in part:
                feed(p)
            h.update(b")")
        else:
            h.update(repr(part).encode())

    feed(parts)
    return h.hexdigest()


@torch.no_grad()
def decode(models: dict, method: str, z: torch.Tensor) -> torch.Tensor:
    """g(z) of a method: PCA's and the VAE's decoders, the DCGAN's and GLO's generators."""
    if method in ("PCA", "VAE"):
        return models[method].decode(z)
    return models[method](z)


def mean_se(per_image: torch.Tensor) -> tuple[float, float, int]:
    """(mean, standard error s / sqrt(n) with the n - 1 sample deviation s, n); SE is NaN for n = 1."""
    v = per_image.double().flatten()
    n = len(v)
    se = (v.std(unbiased=True) / math.sqrt(n)).item() if n > 1 else math.nan
    return v.mean().item(), se, n


def score_codes(
    models: dict, x: torch.Tensor, z: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """{method: pSNR per image (N,) float64} of g(z) against x."""
    return {
        m: psnr_per_image(x.cpu(), decode(models, m, z_m).cpu()) for m, z_m in z.items()
    }


@torch.no_grad()
def own_samples(generator, n: int, seed: int) -> torch.Tensor:
    """x = g(z) for n codes z ~ N(0, I) drawn from ``seed + 1`` (the sanity check's images)."""
    device = next(generator.parameters()).device
    z = torch.randn(
        n, generator.latent_dim, generator=torch.Generator().manual_seed(seed + 1)
    ).to(device)
    return generator(z)


def sanity_check(
    generator, n: int, inversion: InversionSettings, seed: int = 0
) -> tuple[float, float, float]:
    """(mean pSNR, its standard error, share above SANITY_DB) of g(z*) against x = g(z), z ~ N(0, I).

    z* is found by MSE from another start with exactly ``inversion.steps`` steps of size
    ``inversion.dcgan_lr``: the settings of the DCGAN's real images (equal inversion effort).
    """
    x = own_samples(generator, n, seed)
    z_star = invert(
        generator,
        x,
        "mse",
        inversion.steps,
        lr=inversion.dcgan_lr,
        projection=None,
        seed=seed + 2,
    )
    with torch.no_grad():
        per_image = psnr_per_image(x.cpu(), generator(z_star).cpu())
    mean, se, _ = mean_se(per_image)
    return mean, se, (per_image > SANITY_DB).double().mean().item()


def inversion_curve(
    models: dict,
    real: torch.Tensor,
    inversion: InversionSettings,
    steps_grid: tuple[int, ...] = (100, 300, 1000, 3000),
    n_own: int | None = None,
    seed: int = 0,
) -> list[dict]:
    """pSNR (codes by MSE) against the number of inversion steps, side by side, one row per step count:

    {"steps", "DCGAN own samples", "DCGAN real", "GLO real"}, each a (mean, standard error, n) triple.
    Every column uses the same step count and ``inversion``'s step sizes (the cosine schedule is set
    by the total, so each step count is its own run). Feed it validation images to choose the steps.
    """
    own = own_samples(models["DCGAN"], n_own or len(real), seed)
    rows = []
    for steps in steps_grid:
        inv = replace(inversion, steps=steps)
        z_own = invert(
            models["DCGAN"],
            own,
            "mse",
            steps,
            lr=inv.dcgan_lr,
            projection=None,
            seed=seed + 2,
        )
        z_real = invert(
            models["DCGAN"],
            real,
            "mse",
            steps,
            lr=inv.dcgan_lr,
            projection=None,
            seed=seed,
        )
        z_glo = invert(
            models["GLO"],
            real,
            "mse",
            steps,
            lr=inv.glo_lr,
            projection="ball",
            seed=seed,
        )
        rows.append(
            {
                "steps": steps,
                "DCGAN own samples": mean_se(
                    psnr_per_image(own.cpu(), decode(models, "DCGAN", z_own).cpu())
                ),
                "DCGAN real": mean_se(
                    psnr_per_image(real.cpu(), decode(models, "DCGAN", z_real).cpu())
                ),
                "GLO real": mean_se(
                    psnr_per_image(real.cpu(), decode(models, "GLO", z_glo).cpu())
                ),
            }
        )
    return rows
