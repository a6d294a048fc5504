"""Training GLO: joint SGD on the generator theta and the codes z_i (Bojanowski et al. 2017).

One step on a batch B of image indices, for Eq. 1, min_theta 1/N sum_i min_{z_i} l(g_theta(z_i), x_i):

    theta <- theta - lr_g * grad_theta (1/|B|) sum_{i in B} l(g_theta(z_i), x_i)
    z_i   <- P(z_i - lr_z * grad_{z_i} l(g_theta(z_i), x_i))          for i in B only

with plain SGD (no momentum, no weight decay), lr_g = 1 and lr_z = 10 as in the paper, and P the
projection onto the unit ball. The per-image loss l is a *mean* over pixels (``glo_loss``).

Reduction. The inner minimum of Eq. 1 is over each z_i on its own, so each code follows the
gradient of its own image's loss (``z_reduction="image"``, the default), while theta follows the
batch mean. The public GLO code (``nn.MSELoss()`` on the batch, one optimizer) gives every code
the batch-mean gradient instead, 1/|B| as large (``z_reduction="batch"``): with lr_z = 10 and
|B| = 128 its codes hardly move (a step of 0.08 x the per-image gradient). For theta the mean over
pixels and batch is already the smallest natural scale (a sum over pixels is 1024x larger at 32 px).

Measured (2,048 MNIST training images, DCGAN generator, d = 32, batch 128, 8 epochs = 128 steps,
pSNR of g(z_i) in eval mode against the training images; 2-core CPU):

    lr_g  lr_z  z_reduction  loss      epoch-8 loss  pSNR
    1     10    image/batch  mse       0.404         10.3 dB   tanh saturated at -1 within 10 steps
    1     10    image/batch  lap1      0.182         10.3 dB   saturated as well
    0.3   10    image        mse       0.365         11.5 dB   saturated for 7 epochs
    0.1   10    image        mse       0.165         14.3 dB   (best)
    0.1   10    batch        mse       0.224         12.8 dB
    0.1   100   image        mse       0.189         13.6 dB
    0.03  10    image        mse       0.195         13.3 dB

So lr_z = 10 with the per-image reduction works, but lr_g = 1 does *not* work on MNIST with this
generator under any reduction: MNIST is mostly background (-1), the first steps push the last,
BatchNorm-free layer so far that tanh saturates and its gradient vanishes. (The public code runs lr_g = 1 on LSUN, whose pixels average near 0, so
the push is weak there; we did not measure it.) Use
lr_g = 0.1 on MNIST and Fashion-MNIST; the defaults stay the paper's values.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from .._validate import check_images, check_positive_int
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import ImageDataset, batches
from ..guard import check_bounded, check_finite
from ..progress import progress
from ..seed import rng_state, set_rng_state
from .codes import LatentCodes
from .pyramid import LOSSES, glo_loss

__all__ = ["train_glo"]

Z_REDUCTIONS = ("image", "batch")
OPTIMIZERS = ("sgd", "momentum", "adam")


def _theta_optimizer(params, kind: str, lr_g: float) -> torch.optim.Optimizer:
    """The optimizer of theta: plain SGD (the paper), SGD with momentum 0.9, or Adam(0.5, 0.999)."""
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr_g)
    if kind == "momentum":
        return torch.optim.SGD(params, lr=lr_g, momentum=0.9)
    return torch.optim.Adam(params, lr=lr_g, betas=(0.5, 0.999))  # DCGAN's betas


def train_glo(generator: nn.Module, dataset: ImageDataset | torch.Tensor, latent_dim: int, loss: str = "mse",
              lr_g: float = 1.0, lr_z: float = 10.0, epochs: int = 1, batch_size: int = 128, init: str = "gaussian",
              device: torch.device | str = "cpu", seed: int = 0, checkpoint_dir=None, checkpoint_every: int = 500,
              projection: str = "ball", lap_levels: int = 4, z_reduction: str = "image",
              optimizer: str = "sgd") -> tuple[nn.Module, LatentCodes, dict]:
    """Fit GLO, Eq. {eq}`glo-objective`, by SGD with projection {eq}`glo-projection`.

    ``loss``: "mse", "lap1" or "l2+lap1" (:func:`glo_teach.glo.glo_loss`). ``init``: "gaussian"
    or "pca" codes. ``checkpoint_dir``: resume from its checkpoint if one is there, save every
    ``checkpoint_every`` steps and at the end (a resumed run ends bitwise equal to an
    uninterrupted one on CPU). Returns (generator, codes, history) with history["loss"] the
    batch-mean loss of each step and history["epoch_loss"] its mean over each epoch.
    Raises :class:`glo_teach.DivergenceError` within one step of a NaN or exploding value.
    """
    images = dataset.images if isinstance(dataset, ImageDataset) else dataset
    check_images(images, "dataset images")
    check_positive_int(latent_dim, "latent_dim")
    for name, v in (("epochs", epochs), ("batch_size", batch_size), ("checkpoint_every", checkpoint_every)):
        check_positive_int(v, name)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if z_reduction not in Z_REDUCTIONS:
        raise ValueError(f"z_reduction must be one of {Z_REDUCTIONS}, got {z_reduction!r}")
    if getattr(generator, "latent_dim", latent_dim) != latent_dim:
        raise ValueError(f"latent_dim {latent_dim} does not match the generator's input dimension {generator.latent_dim}")
    if hasattr(generator, "channels") and tuple(images.shape[1:]) != (generator.channels, generator.size, generator.size):
        raise ValueError(f"images have shape {tuple(images.shape[1:])} but the generator makes "
                         f"{(generator.channels, generator.size, generator.size)}")
    device = torch.device(device)
    n = len(images)
    data = ImageDataset(images.to(device), name="glo-train")  # images live on the device: no per-batch copies
    # channels_last: same values, but oneDNN's convolutions run ~10% faster on CPU (see bench/glo_speed.py)
    generator.to(device, memory_format=torch.channels_last).train()
    codes = LatentCodes(n, latent_dim, init=init, data=images, projection=projection,
                        generator=torch.Generator().manual_seed(seed)).to(device)
    opt_g = _theta_optimizer(generator.parameters(), optimizer, lr_g)  # "sgd": plain SGD, as in the paper
    drop_last = n > batch_size and n % batch_size == 1  # BatchNorm cannot train on a batch of one
    steps_per_epoch = n // batch_size if drop_last else -(-n // batch_size)
    total = epochs * steps_per_epoch
    history: dict = {"loss": [], "epoch_loss": []}
    step = 0

    state = load_checkpoint(checkpoint_dir, map_location=device)
    if state is not None:
        if tuple(state["codes"].shape) != (n, latent_dim):
            raise ValueError(f"checkpoint in {checkpoint_dir} holds codes of shape {tuple(state['codes'].shape)}, "
                             f"this run needs {(n, latent_dim)}")
        generator.load_state_dict(state["generator"])
        codes.weight.data.copy_(state["codes"])
        opt_g.load_state_dict(state["opt_g"])
        set_rng_state(state["rng"])
        step, history = state["step"], state["history"]

    def save() -> None:
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, {
                "generator": generator.state_dict(), "codes": codes.weight.detach(), "opt_g": opt_g.state_dict(),
                "rng": rng_state(), "step": step, "history": history,
            })

    params = [p for p in generator.parameters() if p.requires_grad]
    bar = iter(progress(range(step, total), total=total - step, desc="GLO"))
    while step < total:
        epoch, first = divmod(step, steps_per_epoch)
        order = torch.Generator().manual_seed(seed * 1_000_003 + epoch)  # the epoch's shuffle, rebuilt on resume
        epoch_batches = batches(data, batch_size, shuffle=True, generator=order, drop_last=drop_last, device=device)
        for x, _, idx in itertools.islice(epoch_batches, first, None):
            z = codes.batch(idx)  # (B, d) leaf: only these codes move this step
            x_hat = generator(z)  # (B, d) -> (B, C, H, W)
            loss_value = glo_loss(x_hat, x, kind=loss, levels=lap_levels)  # mean over the batch of l(g(z_i), x_i)
            opt_g.zero_grad(set_to_none=True)
            loss_value.backward()
            value = loss_value.item()
            check_finite(step, f"lr_g={lr_g:g}, lr_z={lr_z:g}", loss=value)
            opt_g.step()
            # z.grad is (1/B) grad_{z_i} l_i; "image" undoes the 1/B (each z_i minimises its own l_i)
            grad_z = z.grad * len(idx) if z_reduction == "image" else z.grad
            z_new = codes.sgd_step(idx, grad_z, lr_z)
            theta_max = torch.stack([torch.linalg.vector_norm(p.detach(), float("inf")) for p in params])  # max |theta|
            check_bounded(step, [("generator parameters", theta_max),
                                 ("codes", z_new)], f"lr_g={lr_g:g}, lr_z={lr_z:g}")
            history["loss"].append(value)
            step += 1
            next(bar, None)
            if step % steps_per_epoch == 0:
                history["epoch_loss"].append(sum(history["loss"][-steps_per_epoch:]) / steps_per_epoch)
            if step % checkpoint_every == 0 and step < total:
                save()
    save()
    return generator, codes, history
