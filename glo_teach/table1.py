"""Table 1 of the GLO paper: reconstruction pSNR of PCA, VAE, DCGAN and GLO, trained on the same split.

Protocol (Bojanowski et al. 2017, Secs. 4.1 and 4.4):

- Data: the paper's split (every 32nd image is a test image); ``budget.n_images`` training images.
- Latent dimension d: 32 for MNIST and Fashion-MNIST, 64 for SVHN, 256 for CelebA (64 px).
- Models, all deep ones with the same DCGAN generator (width ``budget.table1_width``):
  PCA with d components; a VAE (Gaussian likelihood, sigma = 0.1, Adam 1e-3, ``budget.vae_epochs``);
  DCGAN (non-saturating loss, Adam 2e-4, beta1 = 0.5, batch 64, ``budget.gan_steps``); GLO (``GLO_SETTINGS``:
  Adam 3e-3 for theta, SGD lr 1 + projection for z, since the paper's SGD lr 1 / 10 saturates our
  generator; MSE for MNIST and Fashion-MNIST, l2 + Lap1 otherwise, ``budget.glo_epochs``).
  The paper trains the VAE with the GLO loss; ours always uses the Gaussian (MSE) likelihood.
- Codes of ``budget.table1_recon`` evenly spaced images per split, found two ways (the two
  halves of the table): by MSE (PCA: projection; VAE: the encoder mean mu(x); DCGAN and GLO:
  inversion by gradient descent through the frozen generator) and by Lap1 (VAE, DCGAN and GLO:
  inversion under Lap1; the VAE starts from mu(x), GLO's training images from their learned codes).
  Either way the score is the pSNR (per image, then averaged) of g(z) against the image.
- Per class (labelled data): the test pSNR of each class with codes found by MSE, where a GAN that
  drops part of the data shows an uneven row; and samples of the VAE, the DCGAN and GLO, whose
  sharpness chapter 9 compares.
- Sanity check: codes for images the DCGAN generated itself are found almost exactly (the paper:
  pSNR > 50), so a low DCGAN score is not a failure of the inversion. It takes
  ``SANITY_STEPS_FACTOR`` times the budget's inversion steps, at the DCGAN's step size.

:func:`run_table1` does all of it and writes ``table1.csv``, ``table1.md`` and the figures
``samples.png``, ``reconstructions.png`` and ``interpolations.png`` to ``out``.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from matplotlib.figure import Figure

from .baselines import PCA
from .budgets import Budget, default_device, get_budget
from .data import CLASS_NAMES, DATASETS, evenly_spaced, load_dataset
from .gan.train import train_gan
from .glo import fit_gaussian, interpolate, invert, sample, train_glo
from .metrics import psnr, psnr_per_class, psnr_per_image
from .nets import DCGANDiscriminator, DCGANGenerator
from .plot import show_images
from .seed import seed_everything
from .vae import VAE, train_vae

__all__ = ["LATENT_DIMS", "PAPER", "ROWS", "Table1Result", "per_class_markdown", "run_table1", "to_markdown", "write_csv"]

LATENT_DIMS = {"mnist": 32, "fashion-mnist": 32, "svhn": 64, "celeba": 256}
ROWS = [("PCA", "mse"), ("VAE", "mse"), ("DCGAN", "mse"), ("GLO", "mse"),
        ("VAE", "lap1"), ("DCGAN", "lap1"), ("GLO", "lap1")]  # above and below the paper's line
# the paper's (train, test) pSNR; CelebA at 64 px; no numbers for Fashion-MNIST
PAPER: dict[str, dict[tuple[str, str], tuple[float, float]]] = {
    "mnist": {("PCA", "mse"): (20.6, 20.3), ("VAE", "mse"): (26.2, 25.7), ("DCGAN", "mse"): (26.9, 27.2),
              ("GLO", "mse"): (27.0, 27.2), ("VAE", "lap1"): (25.3, 25.0), ("DCGAN", "lap1"): (25.8, 26.2),
              ("GLO", "lap1"): (26.2, 26.2)},
    "svhn": {("PCA", "mse"): (30.2, 30.3), ("VAE", "mse"): (27.9, 27.8), ("DCGAN", "mse"): (30.2, 30.1),
             ("GLO", "mse"): (30.7, 30.7), ("VAE", "lap1"): (24.5, 24.5), ("DCGAN", "lap1"): (26.0, 26.0),
             ("GLO", "lap1"): (27.9, 28.0)},
    "celeba": {("PCA", "mse"): (25.1, 25.1), ("VAE", "mse"): (25.0, 24.9), ("DCGAN", "mse"): (25.0, 25.0),
               ("GLO", "mse"): (27.7, 27.7), ("VAE", "lap1"): (22.8, 22.8), ("DCGAN", "lap1"): (21.9, 21.9),
               ("GLO", "lap1"): (25.5, 25.6)},
}
# The paper's plain SGD (lr 1 for theta, 10 for z) saturates our tanh generator on MNIST within ten
# steps (10.3 dB); Adam for theta with the codes on SGD + projection reached 27.7 dB test pSNR in 8
# epochs on 4,096 images (measured table in glo_teach/glo/train.py's docstring).
GLO_SETTINGS = {"optimizer": "adam", "lr_g": 3e-3, "lr_z": 1.0}
SANITY_DB = 50.0  # the paper: pSNR of a DCGAN reconstructing its own samples is above this
# A DCGAN's codes are unconstrained (prior N(0, I_d), norms near sqrt(d)): Adam's step 0.1 that suits
# GLO's unit ball is too short for them. Measured on a width-32 DCGAN after 800 steps, 64 of its own
# samples: 200 steps at lr 0.1 gave 26.2 dB, 1000 at 0.1 gave 52.0 dB (50% of images above 50 dB),
# 1000 at 0.3 gave 90.4 dB (95%), 2000 at 0.1 gave 90.4 dB (100%); 128 test images at 200 steps:
# 20.2 dB at lr 0.1, 20.9 dB at 0.3.
DCGAN_INVERT_LR = 0.3
DCGAN_BATCH = 64  # pytorch/examples' DCGAN batch: half the time per step of 128, which Table 1's cpu run needs
# The sanity check takes 10x the budget's inversion steps (cpu: 2000): with 5x (1000 at lr 0.3) the
# width-32 DCGAN of the cpu budget (1500 steps) reached only 46.2 dB, a few images stuck near 25 dB.
SANITY_STEPS_FACTOR = 10
N_SAMPLES = 1000  # samples kept per generative model: enough for a mean sharpness, small at the gpu budget


@dataclass
class Table1Result:
    """Rows ``{"method", "codes", "train", "test", "paper_train", "paper_test"}`` (pSNR in dB, NaN if none)."""

    dataset: str
    budget: str
    latent_dim: int
    rows: list[dict]
    sanity_psnr: float  # DCGAN inverting its own samples: mean pSNR (dB)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    n_train: int = 0  # images the models were trained on
    n_eval: tuple[int, int] = (0, 0)  # images scored per split (train, test)
    sanity_above: float = math.nan  # share of those samples reconstructed above SANITY_DB
    # test pSNR per class (codes by MSE), {method: [dB for class 0, 1, ...]}; empty for unlabelled data
    per_class: dict[str, list[float]] = field(default_factory=dict)
    class_counts: list[int] = field(default_factory=list)  # scored test images per class
    class_names: tuple[str, ...] = ()
    # samples of the generative models, {"VAE" | "DCGAN" | "GLO": (n, C, H, W)} on the CPU,
    # n = min(scored test images, N_SAMPLES)
    samples: dict[str, torch.Tensor] = field(default_factory=dict)


def _train_models(train, d: int, budget: Budget, glo_loss_kind: str, device, seed: int, seconds: dict) -> dict:
    """PCA, VAE, DCGAN and GLO fitted to the same training images; wall times into ``seconds``."""
    c, s = train.image_shape[0], train.image_shape[1]
    w = budget.table1_width
    t = time.perf_counter()
    pca = PCA(d).fit(train.images)
    seconds["train PCA"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    vae, _ = train_vae(VAE(d, c, s, w), train, epochs=budget.vae_epochs, batch_size=budget.batch_size, lr=1e-3,
                       likelihood="gaussian", sigma=0.1, device=device, seed=seed)
    seconds["train VAE"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    g_gan, d_gan = DCGANGenerator(d, c, s, w), DCGANDiscriminator(c, s, w)
    train_gan(g_gan, d_gan, train, loss="nonsaturating", steps=budget.gan_steps,
              batch_size=min(DCGAN_BATCH, len(train)), device=device, seed=seed)
    seconds["train DCGAN"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    g_glo, codes, _ = train_glo(DCGANGenerator(d, c, s, w), train, d, loss=glo_loss_kind, epochs=budget.glo_epochs,
                                batch_size=budget.batch_size, init="pca", device=device, seed=seed, **GLO_SETTINGS)
    seconds["train GLO"] = time.perf_counter() - t
    return {"PCA": pca, "VAE": vae.eval(), "DCGAN": g_gan.eval(), "GLO": g_glo.eval(), "codes": codes}


def _find_codes(models: dict, x: torch.Tensor, codes: str, glo_init: torch.Tensor | None, steps: int,
                device, seed: int) -> dict[str, torch.Tensor]:
    """Codes of images ``x`` for every model under the loss ``codes`` ("mse" or "lap1"); {method: z}."""
    x = x.to(device)
    mu = models["VAE"].encode(x)[0].detach()  # the VAE's posterior mean, (N, d)
    out = {}
    if codes == "mse":
        out["PCA"] = models["PCA"].encode(x)
        out["VAE"] = mu
    else:  # a DCGAN generator's codes are unconstrained (prior N(0, I)), GLO's live in the unit ball
        out["VAE"] = invert(models["VAE"].decoder, x, "lap1", steps, init=mu, projection=None, seed=seed)
    out["DCGAN"] = invert(models["DCGAN"], x, codes, steps, lr=DCGAN_INVERT_LR, projection=None, seed=seed)
    out["GLO"] = invert(models["GLO"], x, codes, steps, init=glo_init if glo_init is not None else "gaussian",
                        projection="ball", seed=seed)
    return out


@torch.no_grad()
def _decode(models: dict, method: str, z: torch.Tensor) -> torch.Tensor:
    if method == "PCA":
        return models["PCA"].decode(z)
    if method == "VAE":
        return models["VAE"].decode(z)
    return models[method](z)


def run_table1(dataset: str = "mnist", budget: Budget | str | None = None, out: str | Path | None = None,
               device: torch.device | str | None = None, seed: int = 0) -> Table1Result:
    """Train PCA, VAE, DCGAN and GLO on ``dataset`` and score their reconstructions as in Table 1.

    Each entry is mean_i pSNR(x_i, g(z_i)) = mean_i 10 log10(2^2 / MSE(x_i, g(z_i))) (images in
    [-1, 1]) over the scored images of a split, with z_i found by MSE or by Lap1 (Book: {eq}`psnr`,
    {eq}`glo-inversion`). With ``out``, writes the CSV, the Markdown table and the PNG figures there.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    device = torch.device(device) if device is not None else default_device()
    d = LATENT_DIMS[dataset]
    glo_loss_kind = "mse" if dataset in ("mnist", "fashion-mnist") else "l2+lap1"
    seconds: dict[str, float] = {}
    start = time.perf_counter()

    train = load_dataset(dataset, "train", n=budget.n_images)
    test = load_dataset(dataset, "test", n=budget.table1_recon)
    models = _train_models(train, d, budget, glo_loss_kind, device, seed, seconds)

    t = time.perf_counter()
    train_idx = evenly_spaced(len(train), budget.table1_recon)  # the training images that are scored
    images = {"train": train.images[train_idx], "test": test.images}
    glo_train_codes = models["codes"].weight.detach()[train_idx.to(models["codes"].weight.device)]
    names = CLASS_NAMES.get(dataset, ())  # test pSNR per class (MSE codes) where the data set has labels
    scores: dict[tuple[str, str, str], float] = {}
    per_class: dict[str, list[float]] = {}
    found: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for codes in ("mse", "lap1"):
        for split, x in images.items():
            z = _find_codes(models, x, codes, glo_train_codes if split == "train" else None,
                            budget.invert_steps, device, seed)
            found[codes, split] = z
            for method, z_m in z.items():
                x_hat = _decode(models, method, z_m).cpu()
                scores[method, codes, split] = psnr(x, x_hat)
                if names and (codes, split) == ("mse", "test"):
                    per_class[method] = psnr_per_class(x, x_hat, test.labels, len(names)).tolist()
    seconds["find codes"] = time.perf_counter() - t

    t = time.perf_counter()
    sanity, above = _sanity_check(models["DCGAN"], min(64, budget.table1_recon), SANITY_STEPS_FACTOR * budget.invert_steps,
                           device, seed)
    seconds["sanity check"] = time.perf_counter() - t
    samples = _samples(models, min(len(test), N_SAMPLES), seed)
    seconds["total"] = time.perf_counter() - start

    paper = PAPER.get(dataset, {})
    rows = [{"method": m, "codes": c, "train": scores[m, c, "train"], "test": scores[m, c, "test"],
             "paper_train": paper.get((m, c), (math.nan, math.nan))[0],
             "paper_test": paper.get((m, c), (math.nan, math.nan))[1]} for m, c in ROWS]
    class_counts = torch.bincount(test.labels, minlength=len(names)).tolist() if names else []
    result = Table1Result(dataset, budget.name, d, rows, sanity, seconds, len(train),
                          (len(images["train"]), len(images["test"])), above, per_class, class_counts, names, samples)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(result, out / "table1.csv")
        (out / "table1.md").write_text(to_markdown(result))
        _figures(models, samples, images["test"], found["mse", "test"], out)
    return result


@torch.no_grad()
def _samples(models: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    """n samples of each generative model: the VAE's prior, the DCGAN's N(0, I), GLO's fitted Gaussian."""
    torch.manual_seed(seed)
    device = next(models["DCGAN"].parameters()).device
    z = torch.randn(n, models["DCGAN"].latent_dim, device=device)
    out = {"VAE": models["VAE"].sample(n), "DCGAN": models["DCGAN"](z),
           "GLO": sample(models["GLO"], fit_gaussian(models["codes"]), n)}
    return {m: x.cpu() for m, x in out.items()}


@torch.no_grad()
def _sanity_check(generator, n: int, steps: int, device, seed: int) -> tuple[float, float]:
    """(mean pSNR, share above SANITY_DB) of g(z*) against x = g(z), z ~ N(0, I), z* found by MSE from another start."""
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed + 1)).to(device)
    x = generator(z)
    with torch.enable_grad():
        z_star = invert(generator, x, "mse", steps, lr=DCGAN_INVERT_LR, projection=None, seed=seed + 2)
    per_image = psnr_per_image(x.cpu(), generator(z_star).cpu())
    return per_image.mean().item(), (per_image > SANITY_DB).double().mean().item()


def write_csv(result: Table1Result, path: str | Path) -> None:
    """One row per (method, codes): dataset, budget, method, codes, train, test, paper_train, paper_test (dB)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "budget", "method", "codes", "train_psnr", "test_psnr", "paper_train", "paper_test"])
        for r in result.rows:
            writer.writerow([result.dataset, result.budget, r["method"], r["codes"], f"{r['train']:.2f}",
                             f"{r['test']:.2f}", _fmt(r["paper_train"]), _fmt(r["paper_test"])])


def _fmt(v: float, digits: int = 1) -> str:
    """A blank for NaN (no number), otherwise ``digits`` decimals."""
    return "" if math.isnan(v) else f"{v:.{digits}f}"


def to_markdown(result: Table1Result, title: bool = True) -> str:
    """Table 1 as Markdown: ours next to the paper's, MSE codes then Lap1 codes, with the sanity check.

    ``title=False`` leaves out the level-1 heading (for display inside a chapter)."""
    heading = [f"# Table 1, {result.dataset} (d = {result.latent_dim}), budget `{result.budget}`", ""] if title else []
    lines = heading + [
        f"pSNR (dB) of reconstructions; models trained on {result.n_train} images, "
        f"scored on {result.n_eval[0]} training and {result.n_eval[1]} test images.", "",
        "| method | codes found by | train | test | paper train | paper test |",
        "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in result.rows:
        lines.append(f"| {r['method']} | {'MSE' if r['codes'] == 'mse' else 'Lap1'} | {r['train']:.2f} | "
                     f"{r['test']:.2f} | {_fmt(r['paper_train'])} | {_fmt(r['paper_test'])} |")
    verdict = "passes" if result.sanity_psnr > SANITY_DB else "does not reach"
    share = "" if math.isnan(result.sanity_above) else f"; {result.sanity_above:.0%} of them above it"
    lines += ["", f"Sanity check: the DCGAN reconstructs its own samples at {result.sanity_psnr:.1f} dB "
              f"({verdict} the paper's > {SANITY_DB:.0f} dB{share}).", "",
              "Wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items()) + ".", ""]
    return "\n".join(lines)


def per_class_markdown(result: Table1Result) -> str:
    """Test pSNR (dB, codes by MSE) per class as Markdown, one column per method and GLO - DCGAN last.

    The last row is the test column of Table 1, sum_k N_k pSNR_k / N (Book: {eq}`psnr-per-class`).
    """
    if not result.per_class:
        raise ValueError(f"{result.dataset} has no class labels, so no per-class scores")
    methods = [m for m, c in ROWS if c == "mse"]
    lines = ["| class | test images | " + " | ".join(methods) + " | GLO − DCGAN |",
             "| --- | ---: | " + " | ".join("---:" for _ in methods) + " | ---: |"]
    for k, name in enumerate(result.class_names):
        v = {m: result.per_class[m][k] for m in methods}
        lines.append(f"| {name} | {result.class_counts[k]} | " + " | ".join(_fmt(v[m], 2) for m in methods)
                     + f" | {_fmt(v['GLO'] - v['DCGAN'], 2)} |")
    total = {r["method"]: r["test"] for r in result.rows if r["codes"] == "mse"}
    lines.append(f"| all | {sum(result.class_counts)} | " + " | ".join(f"{total[m]:.2f}" for m in methods)
                 + f" | {total['GLO'] - total['DCGAN']:.2f} |")
    return "\n".join(lines)


def _figures(models: dict, samples: dict[str, torch.Tensor], x_test: torch.Tensor, z_test: dict[str, torch.Tensor],
             out: Path) -> None:
    """samples.png, reconstructions.png and interpolations.png (codes of test images found by MSE)."""
    n = min(16, len(x_test))
    _grid({m: x[:n] for m, x in samples.items()}, n, out / "samples.png", "samples")

    recon = {"test images": x_test[:n]}
    recon.update({m: _decode(models, m, z_test[m][:n]) for m in ("PCA", "VAE", "DCGAN", "GLO")})
    _grid(recon, n, out / "reconstructions.png", "reconstructions (codes by MSE)")

    pairs = [(0, 1), (2, 3)] if len(x_test) >= 4 else [(0, len(x_test) - 1)]
    interp = {f"{m}, test {a} to {b}": _decode(models, m, interpolate(z_test[m][a], z_test[m][b], 10))
              for m in ("VAE", "DCGAN", "GLO") for a, b in pairs}
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
