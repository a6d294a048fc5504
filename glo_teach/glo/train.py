"""Training GLO: joint SGD on the generator theta and the codes z_i (Bojanowski et al. 2017).

One step on a batch B of image indices, for Eq. 1, min_theta 1/N sum_i min_{z_i} l(g_theta(z_i), x_i):

    theta <- theta - lr_g * grad_theta (1/|B|) sum_{i in B} l(g_theta(z_i), x_i)
    z_i   <- P(z_i - lr_z * grad_{z_i} l(g_theta(z_i), x_i))          for i in B only

with plain SGD (no momentum, no weight decay), lr_g = 1 and lr_z = 10 as in the paper, and P the
projection onto the unit ball. The per-image loss l is a *mean* over pixels (``glo_loss``).

Reduction. The inner minimum of Eq. 1 is over each z_i on its own, so each code follows the
gradient of its own image's loss (``z_reduction="image"``, the default), while theta follows the
batch mean. The public GLO code (``nn.MSELoss()`` on the batch, one optimizer) gives every code
the batch-mean gradient instead, 1/|B| as large (``z_reduction="batch"``): exactly the same as
"image" with lr_z / |B| (lr_z = 10, |B| = 128: 0.078). For theta the mean over pixels and batch
is already the smallest natural scale (a sum over pixels is 1024x larger at 32 px).

Optimizer of theta. ``optimizer="sgd"`` (default, the paper), ``"momentum"`` (SGD, momentum 0.9)
or ``"adam"`` (betas 0.5, 0.999; lr_g is then Adam's step size). The codes always take plain SGD
steps with projection, whatever theta uses.

Measured (4,096 MNIST training images, 32 px, DCGAN generator width 64, d = 32, batch 128, PCA
init, MSE, z_reduction="image"; train: pSNR of g(z_i) in eval mode on every 4th training image;
test: 128 test-split images, codes by ``invert`` (Adam, 100 steps, lr 0.1, ball)):

    theta        lr_g    lr_z   epochs  train pSNR  test pSNR
    sgd          1       10     3       10.3 dB     10.5 dB   tanh saturated at -1 (94% of pixels)
    sgd          0.1     10     3       14.3 dB     16.3 dB
    sgd          0.1     3      8       18.6 dB     20.8 dB
    sgd          0.1     0.3    8       21.4 dB     22.6 dB
    momentum     0.01    10     3       11.4 dB     12.6 dB
    adam         1e-3    1000   3       14.0 dB     18.7 dB
    adam         1e-3    100    3       14.2 dB     19.0 dB
    adam         1e-3    10     8       17.6 dB     22.7 dB
    adam         1e-3    3      8       22.8 dB     26.0 dB
    adam         1e-3    1      8       25.0 dB     27.1 dB
    adam         1e-3    0.3    8       26.1 dB     26.8 dB
    adam         1e-3    0.1    8       25.7 dB     26.7 dB
    adam         1e-3    0      8       24.7 dB     26.5 dB   codes frozen at the PCA init
    adam         3e-3    1      8       25.5 dB     27.7 dB
    adam         3e-3    0.3    8       26.7 dB     27.4 dB

(train pSNR moves by about +-0.5 dB from epoch to epoch: BatchNorm's running statistics; test pSNR
on 128 images is itself uncertain by a few tenths of a dB. Frozen PCA codes, lr_z = 0, are only
0.5-1.5 dB behind at this budget: most of the gain is the generator's.)
So: (1) lr_g = 1 with plain SGD saturates the tanh within ~10 steps on MNIST (mostly background
at -1; the last, BatchNorm-free layer is pushed far in the first steps) and no reduction of the
loss helps, since the pixel-and-batch mean is already the smallest scale; lr_g = 0.1 trains, but
slowly. (2) lr_z = 10 per image is too large: each code is updated once per epoch and overshoots;
lr_z = 0.3 to 1 per image is best (with Adam 3e-3: 27.4 to 27.7 dB test after 8 epochs), i.e.
lr_z = 40 to 128 with "batch"; the paper's lr_z = 10 with the public code's batch-mean reduction
is 0.078 per image, next to the measured 0.1 (26.7 dB). (3) Adam on theta (lr 1e-3 to 3e-3)
reaches in 8 epochs what SGD does not reach at all here; it is the setting to use on MNIST and
Fashion-MNIST (``optimizer="adam", lr_g=3e-3, lr_z=1``; 1e-3 is a little slower). The defaults
stay the paper's values.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from .._validate import check_images, check_positive_int
from ..checkpoint import capture, load_checkpoint, restore, save_checkpoint
from ..data import ImageDataset, batches
from ..guard import check_bounded, check_finite
from ..progress import progress
from .codes import INITS, LatentCodes
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


def train_glo(
    generator: nn.Module,
    dataset: ImageDataset | torch.Tensor,
    latent_dim: int,
    loss: str = "mse",
    lr_g: float = 1.0,
    lr_z: float = 10.0,
    epochs: int = 1,
    batch_size: int = 128,
    init: str = "gaussian",
    device: torch.device | str = "cpu",
    seed: int = 0,
    checkpoint_dir=None,
    checkpoint_every: int = 500,
    projection: str = "ball",
    lap_levels: int = 4,
    z_reduction: str = "image",
    optimizer: str = "sgd",
    max_steps: int | None = None,
) -> tuple[nn.Module, LatentCodes, dict]:
    """Fit GLO, Eq. {eq}`glo-objective`, by SGD with projection {eq}`glo-projection`.

    ``loss``: "mse", "lap1" or "l2+lap1" (:func:`glo_teach.glo.glo_loss`). ``optimizer``: "sgd"
    (the paper), "momentum" or "adam" for theta; the codes always take plain SGD steps of size
    ``lr_z`` followed by the projection (module docstring: measured settings). ``init``: "gaussian"
    or "pca" codes. ``max_steps``: stop after at most that many steps in all (``Budget.max_steps``;
    None: every epoch). ``checkpoint_dir``: resume from its checkpoint if one is there, save every
    ``checkpoint_every`` steps and at the end (a resumed run ends bitwise equal to an
    uninterrupted one on CPU). Returns (generator, codes, history), the generator on ``device`` in
    channels_last memory format (same values, faster convolutions) with history["loss"] the
    batch-mean loss of each step and history["epoch_loss"] its mean over each epoch.
    Raises :class:`glo_teach.DivergenceError` within one step of a NaN or exploding value.
    """
    images = dataset.images if isinstance(dataset, ImageDataset) else dataset
    check_images(images, "dataset images", check_range=True)
    check_positive_int(latent_dim, "latent_dim")
    for name, v in (
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("checkpoint_every", checkpoint_every),
    ):
        check_positive_int(v, name)
    if max_steps is not None:
        check_positive_int(max_steps, "max_steps")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if z_reduction not in Z_REDUCTIONS:
        raise ValueError(
            f"z_reduction must be one of {Z_REDUCTIONS}, got {z_reduction!r}"
        )
    if getattr(generator, "latent_dim", latent_dim) != latent_dim:
        raise ValueError(
            f"latent_dim {latent_dim} does not match the generator's input dimension {generator.latent_dim}"
        )
    if hasattr(generator, "channels") and tuple(images.shape[1:]) != (
        generator.channels,
        generator.size,
        generator.size,
    ):
        raise ValueError(
            f"images have shape {tuple(images.shape[1:])} but the generator makes "
            f"{(generator.channels, generator.size, generator.size)}"
        )
    device = torch.device(device)
    n = len(images)
    data = ImageDataset(
        images.to(device), name="glo-train"
    )  # images live on the device: no per-batch copies
    # channels_last: same values; a 32 or 64 px DCGAN step ran 9-14% faster on CPU (oneDNN), same-process A/B
    generator.to(device, memory_format=torch.channels_last).train()
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    state = load_checkpoint(
        checkpoint_dir
    )  # on CPU: RNG states must stay there; load_state_dict moves the rest
    # a resumed run overwrites the codes: skip the PCA init (an SVD of every image) it would throw away
    codes = LatentCodes(
        n,
        latent_dim,
        init=init if state is None else "gaussian",
        data=images,
        projection=projection,
        generator=torch.Generator().manual_seed(seed),
    ).to(device)
    opt_g = _theta_optimizer(
        generator.parameters(), optimizer, lr_g
    )  # "sgd": plain SGD, as in the paper
    drop_last = (
        n > batch_size and n % batch_size == 1
    )  # BatchNorm cannot train on a batch of one
    steps_per_epoch = n // batch_size if drop_last else -(-n // batch_size)
    total = (
        epochs * steps_per_epoch
        if max_steps is None
        else min(epochs * steps_per_epoch, max_steps)
    )
    history: dict = {"loss": [], "epoch_loss": []}
    step = 0

    parts = {"generator": generator, "codes": codes, "opt_g": opt_g}
    if state is not None:
        saved = tuple(state["codes"]["weight"].shape)
        if saved != (n, latent_dim):
            raise ValueError(
                f"checkpoint in {checkpoint_dir} holds codes of shape {saved}, "
                f"this run needs {(n, latent_dim)}"
            )
        restore(state, parts)
        step, history = state["step"], state["history"]

    def save() -> None:
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, capture(parts, step=step, history=history))

    params = [p for p in generator.parameters() if p.requires_grad]
    bar = iter(progress(range(step, total), total=total - step, desc="GLO"))
    while step < total:
        epoch, first = divmod(step, steps_per_epoch)
        order = torch.Generator().manual_seed(
            seed * 1_000_003 + epoch
        )  # the epoch's shuffle, rebuilt on resume
        epoch_batches = batches(
            data,
            batch_size,
            shuffle=True,
            generator=order,
            drop_last=drop_last,
            device=device,
        )
        for x, _, idx in itertools.islice(epoch_batches, first, None):
            z = codes.batch(idx)  # (B, d) leaf: only these codes move this step
            x_hat = generator(z)  # (B, d) -> (B, C, H, W)
            loss_value = glo_loss(
                x_hat, x, kind=loss, levels=lap_levels
            )  # mean over the batch of l(g(z_i), x_i)
            opt_g.zero_grad(set_to_none=True)
            loss_value.backward()
            value = loss_value.item()
            check_finite(step, f"lr_g={lr_g:g}, lr_z={lr_z:g}", loss=value)
            opt_g.step()
            # z.grad is (1/B) grad_{z_i} l_i; "image" undoes the 1/B (each z_i minimises its own l_i)
            grad_z = z.grad * len(idx) if z_reduction == "image" else z.grad
            z_new = codes.sgd_step(idx, grad_z, lr_z)
            check_bounded(
                step,
                [*(("generator parameters", p) for p in params), ("codes", z_new)],
                f"lr_g={lr_g:g}, lr_z={lr_z:g}",
            )
            history["loss"].append(value)
            step += 1
            next(bar, None)
            if step % steps_per_epoch == 0:
                history["epoch_loss"].append(
                    sum(history["loss"][-steps_per_epoch:]) / steps_per_epoch
                )
            if step % checkpoint_every == 0 and step < total:
                save()
            if step == total:  # max_steps reached within an epoch
                break
    save()
    return generator, codes, history
