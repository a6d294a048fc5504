"""The GAN training loop used by every GAN chapter: k discriminator steps, then one generator step.

One step of :func:`train_gan` (Goodfellow et al. 2014, Algorithm 1, with the loss pairs of
:data:`~glo_teach.gan.losses.GAN_LOSSES`):

    repeat n_critic times:                               # discriminator / critic
        x ~ p_data (a batch),  z ~ N(0, I),  x_fake = G(z)   (no gradient into G)
        L_D = d_loss(D(x), D(x_fake))  [+ gp_weight * GP for wgan-gp]
        phi <- Adam(phi, grad_phi L_D)                   [then clip phi to [-c, c] for wgan-clip]
    z ~ N(0, I)                                          # generator
    L_G = g_loss(D(G(z)))
    theta <- Adam(theta, grad_theta L_G)

With ``latent_optimisation`` (LOGAN) every z, in the D steps and the G step, is first replaced
by z' = :func:`~glo_teach.gan.latent_opt.latent_optimise` (z, G, D) and D's loss gains
``rz_weight`` * R_z; ``prior="uniform"`` draws z ~ U(-1, 1) as LOGAN does.

``data`` is either an :class:`~glo_teach.data.ImageDataset` (shuffled epochs of
:func:`glo_teach.data.batches`, drawn with a dedicated ``torch.Generator``) or a *sampler*: a
callable ``n -> x`` of shape (n, ...) for the toys, e.g. ``ring_of_gaussians().sample``, which
must draw from torch's global RNG (the default) for a resumed run to be exact. With
``conditional=True`` the labels y of the real batch are passed to both networks, ``G(z, y)`` and
``D(x, y)`` (a sampler then returns ``(x, y)``): the same loop drives the conditional GAN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .._validate import check_positive_int, check_positive_number
from ..budgets import default_device
from ..checkpoint import capture, load_checkpoint, restore, save_checkpoint
from ..data import ImageDataset, batches
from ..guard import check_bounded, check_finite
from ..progress import progress
from ..seed import seed_everything
from .lipschitz import apply_spectral_norm, clip_weights_, gradient_penalty
from .losses import GAN_LOSSES
from .latent_opt import PRIORS, latent_optimise, latent_regulariser, sample_prior
from .noise import add_instance_noise, instance_noise_sigma

__all__ = ["TRAIN_LOSSES", "RealBatches", "train_gan"]

# loss name -> key of GAN_LOSSES; the two WGANs differ only in how the critic is kept Lipschitz
TRAIN_LOSSES = {
    "minimax": "minimax",
    "nonsaturating": "nonsaturating",
    "lsgan": "lsgan",
    "wgan-clip": "wgan",
    "wgan-gp": "wgan",
    "hinge": "hinge",
}


class RealBatches:
    """An endless stream of real batches ``(x, y)`` (y is None for an unlabelled sampler).

    From an ImageDataset: epochs of ``batches(..., shuffle=True, drop_last=True)`` whose order
    comes from ``torch.Generator().manual_seed(seed)``. :meth:`state` records the generator's
    state at the start of the current epoch and the number of batches taken since, which is
    enough to rebuild the stream exactly after a restart. A sampler keeps no state of its own.
    """

    def __init__(
        self,
        data: ImageDataset | Callable[[int], Any],
        batch_size: int,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ):
        if not (isinstance(data, ImageDataset) or callable(data)):
            raise TypeError(
                f"data must be an ImageDataset or a sampler n -> tensor, got {type(data).__name__}"
            )
        if isinstance(data, ImageDataset) and len(data) < batch_size:
            raise ValueError(
                f"the data set has {len(data)} images, fewer than one batch of {batch_size}"
            )
        self.data, self.batch_size, self.device = data, batch_size, device
        self.gen = torch.Generator().manual_seed(seed)
        self.epoch_state, self.taken, self.it = self.gen.get_state(), 0, None

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not isinstance(self.data, ImageDataset):
            out = self.data(self.batch_size)
            x, y = out if isinstance(out, tuple) else (out, None)
            return x.to(self.device), None if y is None else y.to(self.device)
        if self.it is None:
            self._start_epoch()
        try:
            x, y, _ = next(self.it)
        except StopIteration:  # new epoch: remember where its shuffle starts
            self.epoch_state, self.taken = self.gen.get_state(), 0
            self._start_epoch()
            x, y, _ = next(self.it)
        self.taken += 1
        return x, y

    def _start_epoch(self) -> None:
        self.gen.set_state(self.epoch_state)
        self.it = batches(
            self.data,
            self.batch_size,
            shuffle=True,
            generator=self.gen,
            drop_last=True,
            device=self.device,
        )
        for _ in range(
            self.taken
        ):  # after a restart: skip what this epoch already gave
            next(self.it)

    def state(self) -> dict:
        return {"epoch_state": self.epoch_state, "taken": self.taken}

    def load_state(self, state: dict) -> None:
        self.epoch_state, self.taken, self.it = (
            state["epoch_state"],
            state["taken"],
            None,
        )


def train_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    data: ImageDataset | Callable[[int], Any],
    *,
    loss: str = "nonsaturating",
    steps: int,
    batch_size: int = 64,
    n_critic: int = 1,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    latent_dim: int | None = None,
    clip: float = 0.01,
    gp_weight: float = 10.0,
    spectral_norm: bool = False,
    instance_noise: float = 0.0,
    noise_schedule: str = "linear",
    conditional: bool = False,
    prior: str = "normal",
    latent_optimisation: dict | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 500,
    log_every: int = 1,
    callback: Callable[[int, nn.Module, nn.Module], None] | None = None,
) -> dict[str, list]:
    """Train ``generator`` and ``discriminator`` in place for ``steps`` generator updates.

    Each step takes ``n_critic`` discriminator steps on L_D, then one generator step on L_G
    (Book: {eq}`gan-alternating-sgd`), with the loss pair of ``loss``:

    - ``"minimax"``: L_D = -V_hat, L_G = mean log(1 - D(G(z))) (saturating);
    - ``"nonsaturating"``: L_D = -V_hat, L_G = -mean log D(G(z));
    - ``"lsgan"``: least squares with targets 1 (real) and 0 (fake);
    - ``"wgan-clip"``: L_D = mean f(G(z)) - mean f(x), every critic weight clipped to [-clip, clip]
      after each critic step (use n_critic = 5); L_G = -mean f(G(z));
    - ``"wgan-gp"``: the same plus ``gp_weight`` times the gradient penalty at interpolates
      (the critic must have no BatchNorm);
    - ``"hinge"``: L_D = mean relu(1 - D(x)) + mean relu(1 + D(G(z))), L_G = -mean D(G(z)).

    ``spectral_norm=True`` reparametrises every layer of the discriminator as W / sigma(W)
    (in place, before training). ``instance_noise`` = sigma_0 > 0 adds N(0, sigma_t^2 I) to every
    input of D, real and fake, with sigma_t annealed to 0 by ``noise_schedule``.
    Adam(lr, betas) updates both networks; ``seed`` seeds every RNG at the start. With
    ``checkpoint_dir`` the full state (networks, optimisers, RNGs, data stream, history) is saved
    atomically every ``checkpoint_every`` steps and at the end, and a call that finds a
    checkpoint there resumes from it: a run stopped and resumed ends bitwise equal to an
    uninterrupted one on CPU. After every step the losses and all parameters are checked:
    NaN, infinity or a parameter above 1e4 raises :class:`~glo_teach.guard.DivergenceError`.

    Returns the history, a dict of lists recorded every ``log_every`` steps: ``step``,
    ``d_loss`` (the last critic step's L_D without the penalty), ``g_loss``, ``penalty`` (GP,
    0 unless wgan-gp) and ``time`` (seconds since the start of training, resumed runs included).
    ``callback(step, generator, discriminator)``, if given, is called at the same steps.

    ``prior``: z ~ N(0, I) ("normal") or U(-1, 1)^d ("uniform"). ``latent_optimisation``: None, or
    a dict of keyword arguments of :func:`~glo_teach.gan.latent_opt.latent_optimise` (``steps``,
    ``method``, ``alpha``, ``beta``, ``fraction``, ``create_graph``) plus ``rz_weight`` (default 0):
    each z of the D and G steps becomes z' = latent_optimise(z, G, D, prior=prior, ...) (computed
    with the D that is being trained, without instance noise) and L_D gains + rz_weight * R_z,
    R_z = mean_i ||dz_i||^2 (a penalty D minimises: it keeps the latent step small), Book: {eq}`logan-rz`.
    R_z reaches D's parameters only through the graph of dz, so ``rz_weight > 0`` with
    ``create_graph=False`` raises ValueError. The history then also records ``rz`` (R_z of the last
    critic step).
    """
    if loss not in TRAIN_LOSSES:
        raise ValueError(f"loss must be one of {sorted(TRAIN_LOSSES)}, got {loss!r}")
    for net, name in ((generator, "generator"), (discriminator, "discriminator")):
        if not isinstance(net, nn.Module):
            raise TypeError(
                f"{name} must be a torch.nn.Module, got {type(net).__name__}"
            )
    for v, name in (
        (steps, "steps"),
        (batch_size, "batch_size"),
        (n_critic, "n_critic"),
        (checkpoint_every, "checkpoint_every"),
        (log_every, "log_every"),
    ):
        check_positive_int(v, name)
    lr_g, lr_d = (
        check_positive_number(lr_g, "lr_g"),
        check_positive_number(lr_d, "lr_d"),
    )
    latent_dim = check_positive_int(
        latent_dim
        if latent_dim is not None
        else getattr(generator, "latent_dim", None),
        "latent_dim",
    )
    if loss == "wgan-gp" and any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in discriminator.modules()
    ):
        raise ValueError(
            "wgan-gp needs a critic without BatchNorm (the penalty is per sample); "
            "e.g. DCGANDiscriminator(norm='layer')"
        )
    if not (isinstance(instance_noise, (int, float)) and instance_noise >= 0):
        raise ValueError(
            f"instance_noise must be a non-negative number, got {instance_noise!r}"
        )
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    lo = dict(latent_optimisation) if latent_optimisation is not None else None
    rz_weight = 0.0
    if lo is not None:
        unknown = set(lo) - {
            "steps",
            "method",
            "alpha",
            "beta",
            "fraction",
            "create_graph",
            "rz_weight",
        }
        if unknown:
            raise ValueError(
                f"latent_optimisation takes steps, method, alpha, beta, fraction, create_graph and "
                f"rz_weight, got unknown keys {sorted(unknown)}"
            )
        rz_weight = lo.pop("rz_weight", 0.0)
        if not (
            isinstance(rz_weight, (int, float))
            and math.isfinite(rz_weight)
            and rz_weight >= 0
        ):
            raise ValueError(
                f"rz_weight must be a finite number >= 0, got {rz_weight!r}"
            )
        if rz_weight > 0 and not lo.get("create_graph", True):
            # without the graph of g, dz is a constant: R_z would add nothing to D's gradient, silently
            raise ValueError(
                f"rz_weight={rz_weight!r} needs create_graph=True: with create_graph=False "
                "dz is a constant, so rz_weight * R_z adds no gradient to D; set rz_weight=0 "
                "or create_graph=True"
            )
    device = torch.device(device) if device is not None else default_device()
    d_loss_fn, g_loss_fn = GAN_LOSSES[TRAIN_LOSSES[loss]]
    G, D = generator, discriminator
    if spectral_norm:
        apply_spectral_norm(D)
    G.to(device).train()
    D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)
    real = RealBatches(data, batch_size, seed, device)
    history: dict[str, list] = {
        "step": [],
        "d_loss": [],
        "g_loss": [],
        "penalty": [],
        "time": [],
    }
    seed_everything(seed)
    start, elapsed = 0, 0.0

    parts = {
        "generator": G,
        "discriminator": D,
        "opt_g": opt_g,
        "opt_d": opt_d,
        "real": real,
    }
    state = load_checkpoint(checkpoint_dir)
    if state is not None:  # resume exactly where the last checkpoint left off
        if state["loss"] != loss:
            raise ValueError(
                f"checkpoint in {checkpoint_dir} was trained with loss={state['loss']!r}, not {loss!r}"
            )
        restore(state, parts)
        start, history, elapsed = state["step"], state["history"], state["elapsed"]

    hint = f"lr_d={lr_d:g}, lr_g={lr_g:g}, loss={loss}"
    t0 = time.perf_counter() - elapsed
    for step in progress(
        range(start, steps), total=steps - start, desc=f"GAN ({loss})"
    ):
        sigma = (
            instance_noise_sigma(step, steps, instance_noise, noise_schedule)
            if instance_noise > 0
            else 0.0
        )

        # --- discriminator / critic: n_critic steps on L_D, G fixed ---
        for _ in range(n_critic):
            x, y = real.next()  # (B, ...), labels (B,) or None
            cond = (
                (y,) if conditional else ()
            )  # labels go to both nets in a conditional GAN
            z = sample_prior(batch_size, latent_dim, prior, device)  # (B, d)
            rz = torch.zeros((), device=device)
            if (
                lo is not None
            ):  # z -> z' (B, d); D's gradient also flows through dz when create_graph
                z, dz = latent_optimise(
                    z, lambda z: G(z, *cond), lambda x: D(x, *cond), prior=prior, **lo
                )
                rz = latent_regulariser(dz)
            with torch.set_grad_enabled(
                lo is not None and lo.get("create_graph", True)
            ):
                x_fake = G(z, *cond)  # (B, ...)
            x_real_in, x_fake_in = (
                add_instance_noise(x, sigma),
                add_instance_noise(x_fake, sigma),
            )
            d_real, d_fake = (
                D(x_real_in, *cond),
                D(x_fake_in, *cond),
            )  # (B,) logits / scores
            loss_d = d_loss_fn(d_real, d_fake)
            penalty = torch.zeros((), device=device)
            if loss == "wgan-gp":
                penalty = gradient_penalty(
                    lambda x_hat: D(x_hat, *cond), x_real_in, x_fake_in
                )
            check_finite(step, hint, loss_d=loss_d, penalty=penalty, rz=rz)
            opt_d.zero_grad(set_to_none=True)
            (loss_d + gp_weight * penalty + rz_weight * rz).backward()
            opt_d.step()
            if loss == "wgan-clip":
                clip_weights_(D, clip)

        # --- generator: one step on L_G, D fixed (its gradients are not used) ---
        z = sample_prior(batch_size, latent_dim, prior, device)  # (B, d)
        if lo is not None:  # z -> z' (B, d), second order through dz when create_graph
            z, _ = latent_optimise(
                z, lambda z: G(z, *cond), lambda x: D(x, *cond), prior=prior, **lo
            )
        loss_g = g_loss_fn(D(add_instance_noise(G(z, *cond), sigma), *cond))
        check_finite(step, hint, loss_g=loss_g)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        check_bounded(
            step,
            [*G.named_parameters(prefix="G"), *D.named_parameters(prefix="D")],
            hint,
        )

        done = step + 1
        if step % log_every == 0 or done == steps:
            for key, v in (
                ("step", step),
                ("d_loss", loss_d.item()),
                ("g_loss", loss_g.item()),
                ("penalty", penalty.item()),
                ("time", time.perf_counter() - t0),
            ):
                history[key].append(v)
            if lo is not None:
                history.setdefault("rz", []).append(rz.item())
            if callback is not None:
                callback(step, G, D)
        if checkpoint_dir is not None and (
            done % checkpoint_every == 0 or done == steps
        ):
            save_checkpoint(
                checkpoint_dir,
                capture(
                    parts,
                    loss=loss,
                    step=done,
                    history=history,
                    elapsed=time.perf_counter() - t0,
                ),
            )
    return history
