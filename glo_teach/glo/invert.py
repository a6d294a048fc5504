"""Inverting a generator: the code of a new image by gradient descent through the frozen g.

For a trained generator g and images x_1..x_N, each code solves (GLO Sec. 4.4; Bora et al. 2017)

    z_i* = argmin_{||z|| <= r} l(g(z), x_i),

found by backpropagating the reconstruction error to z with g frozen (eval mode: BatchNorm uses
its running statistics, so each image's code depends on that image alone). We use Adam, whose
per-coordinate steps need no tuning per generator, with a cosine decay of the step size to zero
so the last steps refine to high precision (the paper's check: a generator's own output is
recovered with pSNR > 50). After every step z is projected: onto the unit ball for GLO (where its
training codes live), or with ``radius=sqrt(d)`` / ``projection=None`` for a DCGAN whose prior
is N(0, I_d) (norms near sqrt(d)).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validate import check_images, check_latent, check_positive_int
from ..guard import check_finite
from ..nets import eval_mode
from .pyramid import glo_loss

__all__ = ["invert"]


def invert(
    generator: nn.Module,
    images: torch.Tensor,
    loss: str = "mse",
    steps: int = 200,
    lr: float = 0.1,
    init: str | torch.Tensor = "gaussian",
    device: torch.device | str | None = None,
    projection: str | None = "ball",
    radius: float = 1.0,
    lap_levels: int = 4,
    seed: int = 0,
    batch_size: int = 1024,
    lap1_reading: str = "coefficient",
) -> torch.Tensor:
    """Codes z (N, d) minimising sum_i l(g(z_i), x_i) over ||z_i|| <= radius, g frozen.

    ``loss``: "mse", "lap1" or "l2+lap1" (per image, :func:`glo_teach.glo.glo_loss`, Lap1 in the
    reading ``lap1_reading``: "coefficient" or "level", see :func:`glo_teach.glo.lap1_loss`). Adam with
    step size lr * (1 + cos(pi t / steps)) / 2 at step t; after each step z_i <- z_i r / max(||z_i||, r)
    ("ball"), z_i r / ||z_i|| ("sphere") or nothing (None). ``init``: "gaussian" (N(0, I) then
    projected, seeded by ``seed``), "zeros", or a tensor (N, d). Images are processed in chunks of
    ``batch_size``. Book: {eq}`glo-inversion`.
    """
    check_images(images, "images")
    check_positive_int(steps, "steps")
    check_positive_int(batch_size, "batch_size")
    if projection not in ("ball", "sphere", None):
        raise ValueError(
            f"projection must be 'ball', 'sphere' or None, got {projection!r}"
        )
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    d = generator.latent_dim
    device = (
        torch.device(device)
        if device is not None
        else next(generator.parameters()).device
    )
    if isinstance(init, torch.Tensor):
        z0 = check_latent(init, d, "init").detach().to(device, torch.float32)
        if len(z0) != len(images):
            raise ValueError(
                f"init must hold one code per image ({len(images)}), got {len(z0)}"
            )
    elif init == "gaussian":
        z0 = torch.randn(
            len(images), d, generator=torch.Generator().manual_seed(seed)
        ).to(device)
    elif init == "zeros":
        z0 = torch.zeros(len(images), d, device=device)
    else:
        raise ValueError(f"init must be 'gaussian', 'zeros' or a tensor, got {init!r}")

    def project(z: torch.Tensor) -> torch.Tensor:
        if projection is None:
            return z
        norm = z.norm(dim=1, keepdim=True)
        return (
            z
            * radius
            / (
                norm.clamp(min=radius)
                if projection == "ball"
                else norm.clamp(min=1e-12)
            )
        )

    frozen = [p.requires_grad for p in generator.parameters()]
    generator.requires_grad_(False)
    try:
        with eval_mode(generator):
            out = [
                _invert_chunk(
                    generator,
                    x.to(device),
                    project(z),
                    loss,
                    steps,
                    lr,
                    project,
                    lap_levels,
                    lap1_reading,
                )
                for x, z in zip(images.split(batch_size), z0.split(batch_size))
            ]
    finally:
        for p, f in zip(generator.parameters(), frozen):
            p.requires_grad_(f)
    return torch.cat(out)


def _invert_chunk(
    generator, x, z, loss, steps, lr, project, lap_levels, lap1_reading
) -> torch.Tensor:
    z = z.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = (
                lr * 0.5 * (1 + math.cos(math.pi * t / steps))
            )  # cosine decay to 0
        value = glo_loss(
            generator(z),
            x,
            kind=loss,
            levels=lap_levels,
            reduction="sum",
            lap1_reading=lap1_reading,
        )  # each image its own loss
        opt.zero_grad(set_to_none=True)
        value.backward()
        check_finite(t, f"inversion lr={lr}", loss=value.detach())
        opt.step()
        with torch.no_grad():
            z.copy_(project(z))
    return z.detach()
