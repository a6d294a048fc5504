"""Training a VAE: Adam on the negative ELBO, one plain loop, crash-safe and exactly resumable.

Each step: a batch x, (mu, logvar) = encoder(x), z = mu + sigma * eps, the decoder's output at z,
loss = -mean_n ELBO(x_n) (nats per image), one Adam step on encoder and decoder together.
Batch order comes from a generator seeded by (seed, epoch) and eps from a checkpointed
generator, so a run stopped at any checkpoint and resumed ends bitwise equal to one that never
stopped (on CPU).
"""

from __future__ import annotations

import itertools
import os

import torch

from .._validate import check_positive_int, check_positive_number
from ..checkpoint import capture, load_checkpoint, restore, save_checkpoint
from ..data import ImageDataset, batches
from ..guard import check_bounded, check_finite
from ..progress import progress
from .elbo import LIKELIHOODS, elbo, gaussian_kl
from .model import VAE

__all__ = ["train_vae"]


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator that shuffles epoch ``epoch``: the same order whether or not the run resumed."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def train_vae(
    vae: VAE,
    dataset: ImageDataset,
    epochs: int = 25,
    batch_size: int = 128,
    lr: float = 1e-3,
    likelihood: str = "gaussian",
    device: torch.device | str = "cpu",
    seed: int = 0,
    sigma: float = 0.1,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    max_steps: int | None = None,
) -> tuple[VAE, dict[str, list[float]]]:
    """Maximise the mean ELBO over ``dataset`` with Adam(lr, betas=(0.9, 0.999)) for ``epochs`` passes.

    loss_t = -(1/B) sum_n ELBO(x_n) with the ELBO of ``glo_teach.vae.elbo`` (one z per image,
    ``likelihood`` "gaussian" with std ``sigma`` or "bernoulli"). Batches of ``batch_size``
    (the last incomplete batch of an epoch is dropped, as BatchNorm needs full batches).
    ``max_steps``: stop after at most that many Adam steps in all (``Budget.max_steps``; None: every epoch).
    With ``checkpoint_dir`` the state is saved every ``checkpoint_every`` steps and at the end,
    and a call that finds a checkpoint there continues from it. Returns the VAE (in eval mode)
    and the history {"loss": -ELBO per step, "kl": mean KL per step} in nats per image.
    Book: {eq}`vae-elbo`
    """
    if not isinstance(vae, VAE):
        raise TypeError(f"vae must be a glo_teach.vae.VAE, got {type(vae).__name__}")
    if not isinstance(dataset, ImageDataset):
        raise TypeError(
            f"dataset must be a glo_teach.data.ImageDataset, got {type(dataset).__name__}"
        )
    if dataset.image_shape != (vae.channels, vae.size, vae.size):
        raise ValueError(
            f"dataset images are {dataset.image_shape}, the VAE expects {(vae.channels, vae.size, vae.size)}"
        )
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    for name, v in (
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("checkpoint_every", checkpoint_every),
    ):
        check_positive_int(v, name)
    if max_steps is not None:
        check_positive_int(max_steps, "max_steps")
    check_positive_number(lr, "lr")
    batch_size = min(batch_size, len(dataset))
    steps_per_epoch = len(dataset) // batch_size
    total = (
        epochs * steps_per_epoch
        if max_steps is None
        else min(epochs * steps_per_epoch, max_steps)
    )

    vae.to(device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr, betas=(0.9, 0.999))
    noise = torch.Generator(device=device).manual_seed(
        seed
    )  # eps of the reparameterisation
    history: dict[str, list[float]] = {"loss": [], "kl": []}
    config = {
        "batch_size": batch_size,
        "likelihood": likelihood,
        "seed": seed,
        "n": len(dataset),
    }
    start = 0
    parts = {"vae": vae, "opt": opt, "noise": noise}
    state = load_checkpoint(
        checkpoint_dir
    )  # on CPU: RNG states must stay there; load_state_dict moves the rest
    if state is not None:
        if state["config"] != config:
            raise ValueError(
                f"checkpoint in {checkpoint_dir} was written with {state['config']}, "
                f"this call uses {config}; use another checkpoint_dir"
            )
        restore(state, parts)
        start, history = state["step"], state["history"]

    def save(step: int) -> None:
        if checkpoint_dir is not None:
            save_checkpoint(
                checkpoint_dir,
                capture(parts, step=step, history=history, config=config),
            )

    hint = f"Adam lr={lr:g}"
    epoch_batches = None
    for step in progress(range(start, total), total=total - start, desc="VAE"):
        epoch, i = divmod(step, steps_per_epoch)
        if (
            epoch_batches is None or i == 0
        ):  # a new epoch, or the first step after a resume
            order = _epoch_generator(seed, epoch)
            epoch_batches = itertools.islice(
                batches(
                    dataset, batch_size, generator=order, drop_last=True, device=device
                ),
                i,
                None,
            )
        x, _, _ = next(epoch_batches)  # (B, C, s, s)

        out, mu, logvar = vae(
            x, likelihood, generator=noise
        )  # (B, C, s, s), (B, d), (B, d)
        loss = -elbo(x, out, mu, logvar, likelihood, sigma).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

        check_finite(step, hint, loss=loss)
        check_bounded(step, vae.named_parameters(), hint)
        history["loss"].append(loss.item())
        history["kl"].append(gaussian_kl(mu, logvar).mean().item())
        if (step + 1) % checkpoint_every == 0:
            save(step + 1)
    save(total)
    return vae.eval(), history
