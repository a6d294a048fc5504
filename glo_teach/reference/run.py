"""Table 1 end to end: train on the fit part, find codes, score train and test images, report.

:func:`run_table1` writes ``table1.csv``, ``table1.json``, ``table1.md`` and the figures ``samples.png``,
``reconstructions.png`` and ``interpolations.png`` to ``out``. Settings come from one
:class:`~glo_teach.reference.protocol.Protocol`; test images are scored here and nowhere else.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch

from ..budgets import Budget, default_device
from ..data import CLASS_NAMES, DATASETS, evenly_spaced
from ..data.datasets import split_size
from ..glo import fit_gaussian, sample
from .protocol import (
    LATENT_DIMS,
    N_SAMPLES,
    PAPER,
    Protocol,
    get_protocol,
    glo_loss_kind,
    load_fit,
    load_test,
)
from .report import (
    Table1Result,
    deviations,
    figures,
    to_markdown,
    write_csv,
    write_json,
)
from .score import find_codes, mean_se, sanity_check, score_codes
from .train import train_models

__all__ = ["run_table1"]


def run_table1(
    dataset: str = "mnist",
    budget: Budget | Protocol | str | None = None,
    out: str | Path | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    models: dict | None = None,
    seconds: dict[str, float] | None = None,
    command: list[str] | None = None,
    tuning: dict | None = None,
    codes_dir: str | Path | None = None,
) -> Table1Result:
    """Train PCA, VAE, DCGAN and GLO on ``dataset`` and score their reconstructions as in Table 1.

    Each entry is mean_i pSNR(x_i, g(z_i)) = mean_i 10 log10(2^2 / MSE(x_i, g(z_i))) (images in
    [-1, 1]) over the scored images of a split, with its standard error, z_i found by MSE or by
    Lap1 (Book: {eq}`psnr`, {eq}`glo-inversion`). ``budget``: a budget (its protocol) or a Protocol.
    With ``out``, writes the CSV, the JSON record, the Markdown table and the PNG figures there.
    ``models``: already trained models (as :func:`~glo_teach.reference.train.train_models` returns, e.g. from
    :mod:`~glo_teach.reference.store`) to score instead of training; ``seconds``: their training wall times,
    reported with this run's; ``command``: the command line recorded in the JSON (default ``sys.argv``);
    ``tuning``: the data set's own tuning record, for the deviations table (:func:`~.report.deviations`);
    ``codes_dir``: the codes of each (codes, split) are saved in its own folder there as each model's are
    found, so a rerun after a kill continues the code search (:func:`~.score.find_codes`, ``resume_dir``).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    protocol = budget if isinstance(budget, Protocol) else get_protocol(budget)
    inv = protocol.inversion
    device = torch.device(device) if device is not None else default_device()
    d = LATENT_DIMS[dataset]
    seconds = dict(seconds or {})
    earlier = sum(seconds.values())  # training done before this call (models given)
    start = time.perf_counter()

    fit = load_fit(dataset, protocol)
    test = load_test(dataset, protocol.n_scored)
    if models is None:
        models = train_models(
            fit, d, protocol, glo_loss_kind(dataset), device, seed, seconds
        )

    t = time.perf_counter()
    train_idx = evenly_spaced(
        len(fit), protocol.n_scored
    )  # the training images that are scored
    images = {"train": fit.images[train_idx], "test": test.images}
    glo_train_codes = models["codes"].weight.detach()[
        train_idx.to(models["codes"].weight.device)
    ]
    names = CLASS_NAMES.get(
        dataset, ()
    )  # test pSNR per class (MSE codes) where the data set has labels
    scores: dict[tuple[str, str, str], tuple[float, float, int]] = {}
    per_class: dict[str, list[float]] = {}
    per_image_test: dict[str, list[float]] = {}
    found: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    rows_spec = protocol.rows()
    for codes in dict.fromkeys(
        c for _, c in rows_spec
    ):  # "encoder", "mse", "lap1", then any extra Lap1 reading
        for split, x in images.items():
            z = find_codes(
                models,
                x,
                codes,
                inv,
                glo_train_codes if split == "train" else None,
                seed,
                device,
                None if codes_dir is None else Path(codes_dir) / f"{codes}-{split}",
            )
            found[codes, split] = z
            for method, per_image in score_codes(models, x, z).items():
                scores[method, codes, split] = mean_se(per_image)
                if split == "test":
                    per_image_test[f"{method} {codes}"] = per_image.tolist()
                if names and (codes, split) == (
                    "mse",
                    "test",
                ):  # class means of the same per-image scores
                    per_class[method] = [
                        per_image[test.labels == k].mean().item()
                        if (test.labels == k).any()
                        else math.nan
                        for k in range(len(names))
                    ]
    seconds["find codes"] = time.perf_counter() - t

    t = time.perf_counter()
    sanity, sanity_se, above = sanity_check(
        models["DCGAN"], protocol.sanity_n, inv, seed
    )
    seconds["sanity check"] = time.perf_counter() - t
    samples = _samples(models, min(len(test), N_SAMPLES), seed)
    seconds["total"] = time.perf_counter() - start + earlier

    paper = PAPER.get(dataset, {})
    rows = [
        {
            "method": m,
            "codes": c,
            "train": scores[m, c, "train"][0],
            "train_se": scores[m, c, "train"][1],
            "test": scores[m, c, "test"][0],
            "test_se": scores[m, c, "test"][1],
            "paper_train": paper.get((m, c.split("-")[0]), (math.nan, math.nan))[0],
            "paper_test": paper.get((m, c.split("-")[0]), (math.nan, math.nan))[1],
        }
        for m, c in rows_spec
    ]
    class_counts = (
        torch.bincount(test.labels, minlength=len(names)).tolist() if names else []
    )
    result = Table1Result(
        dataset,
        protocol.name,
        d,
        rows,
        sanity,
        seconds,
        len(fit),
        (len(images["train"]), len(images["test"])),
        above,
        per_class,
        class_counts,
        names,
        samples,
        sanity_se=sanity_se,
        sanity_n=protocol.sanity_n,
        protocol=protocol,
        deviations=deviations(protocol, dataset, split_size(dataset, "train"), tuning),
        per_image_test=per_image_test,
    )
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(result, out / "table1.csv")
        write_json(result, out / "table1.json", seed, command)
        (out / "table1.md").write_text(to_markdown(result))
        figures(models, samples, images["test"], found["mse", "test"], out)
    return result


@torch.no_grad()
def _samples(models: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    """n samples of each generative model: the VAE's prior, the DCGAN's N(0, I), GLO's fitted Gaussian."""
    torch.manual_seed(seed)
    device = next(models["DCGAN"].parameters()).device
    z = torch.randn(n, models["DCGAN"].latent_dim, device=device)
    out = {
        "VAE": models["VAE"].sample(n),
        "DCGAN": models["DCGAN"](z),
        "GLO": sample(models["GLO"], fit_gaussian(models["codes"]), n),
    }
    return {m: x.cpu() for m, x in out.items()}
