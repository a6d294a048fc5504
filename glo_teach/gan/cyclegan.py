"""CycleGAN (Zhu et al. 2017) between MNIST and a known transform of it, so errors can be measured.

Two generators G: X -> Y and F: Y -> X, two discriminators D_Y (is it a real y?) and D_X. With
unpaired data nothing ties G(x) to *its* x; cycle consistency does: x -> y_hat = G(x) ->
x_hat = F(y_hat) should return to x, and y -> F(y) -> G(F(y)) to y. The objective (both players
minimise their part; least-squares GAN losses as in the paper, Sec. 4 "Training details"):

    L_D = 1/2 [mean (D_Y(y) - 1)^2 + mean D_Y(G(x))^2] + 1/2 [mean (D_X(x) - 1)^2 + mean D_X(F(y))^2]
    L_G = mean (D_Y(G(x)) - 1)^2 + mean (D_X(F(y)) - 1)^2                    (no 1/2: see below)
          + lambda_cyc (mean|F(G(x)) - x| + mean|G(F(y)) - y|)
          + lambda_id (mean|G(y) - y| + mean|F(x) - x|)          (optional identity loss)

Zhu et al. (Sec. 4 and Appendix 7.1) train G on E (D(G(x)) - 1)^2 and D on E (D(y) - 1)^2 +
E D(G(x))^2 divided by 2 ("which slows down the rate at which D learns"); their code uses a plain ``nn.MSELoss`` for both and halves
only D's. So D's loss is :func:`~glo_teach.gan.losses.lsgan_discriminator_loss` (which carries the
1/2), and G's adversarial term is :func:`cyclegan_adversarial_loss` = 2 x
:func:`~glo_teach.gan.losses.lsgan_generator_loss` (Mao et al.'s 1/2 removed): with the 1/2,
lambda_cyc = 10 would weigh the cycle loss like 20 does in the paper. The identity loss compares
each generator with images of its *output* domain (G: X -> Y is fed y, F: Y -> X is fed x).

Domain Y is a deterministic transform T of MNIST (:func:`domain_transform`: colour inversion,
transposition or a quarter turn), and the two domains are built from *disjoint* halves of the
images (:func:`make_domains`), so training is unpaired -- but for a test image x the right answer
T(x) is known, and :func:`translation_error` measures mean|G(x) - T(x)| instead of only looking.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch import nn

from .._validate import (
    check_images,
    check_positive_int,
    check_positive_number,
    check_same_shape,
)
from ..budgets import default_device
from ..checkpoint import capture, load_checkpoint, restore, save_checkpoint
from ..data import ImageDataset
from ..guard import check_bounded, check_finite
from ..nets import eval_mode
from ..progress import progress
from ..seed import seed_everything
from .losses import lsgan_discriminator_loss, lsgan_generator_loss
from .train import RealBatches

__all__ = [
    "TRANSFORMS",
    "domain_transform",
    "make_domains",
    "CycleGenerator",
    "PatchDiscriminator",
    "cycle_consistency_loss",
    "cyclegan_adversarial_loss",
    "identity_loss",
    "translation_error",
    "train_cyclegan",
]

TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "invert": lambda x: (
        -x
    ),  # colour inversion in [-1, 1]: white digit on black -> black on white
    "transpose": lambda x: x.transpose(-2, -1),  # mirror about the main diagonal
    "rot90": lambda x: torch.rot90(
        x, 1, dims=(-2, -1)
    ),  # a quarter turn counter-clockwise
}


def domain_transform(x: torch.Tensor, kind: str = "invert") -> torch.Tensor:
    """T(x) for a batch (N, C, H, W): ``invert`` -x, ``transpose`` x^T, ``rot90`` a quarter turn."""
    if kind not in TRANSFORMS:
        raise ValueError(f"kind must be one of {sorted(TRANSFORMS)}, got {kind!r}")
    return TRANSFORMS[kind](check_images(x, "x"))


def make_domains(
    dataset: ImageDataset, kind: str = "invert"
) -> tuple[ImageDataset, ImageDataset]:
    """Unpaired domains: X = the even-indexed images, Y = T(the odd-indexed images)."""
    if not isinstance(dataset, ImageDataset):
        raise TypeError(
            f"dataset must be an ImageDataset, got {type(dataset).__name__}"
        )
    if len(dataset) < 2:
        raise ValueError(
            f"need at least 2 images to make two domains, got {len(dataset)}"
        )
    x, y = dataset.images[0::2], domain_transform(dataset.images[1::2], kind)
    return (
        ImageDataset(x, dataset.labels[0::2], name=f"{dataset.name}/X"),
        ImageDataset(y, dataset.labels[1::2], name=f"{dataset.name}/Y={kind}"),
    )


def _down(
    c_in: int, c_out: int, norm: bool = True
) -> list[nn.Module]:  # (N, c_in, s, s) -> (N, c_out, s/2, s/2)
    return [
        nn.Conv2d(c_in, c_out, 4, 2, 1),
        *([nn.InstanceNorm2d(c_out, affine=True)] if norm else []),
    ]


class _ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1),
            nn.InstanceNorm2d(c, affine=True),
            nn.ReLU(True),
            nn.Conv2d(c, c, 3, 1, 1),
            nn.InstanceNorm2d(c, affine=True),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)  # (N, c, s, s) -> (N, c, s, s)


class CycleGenerator(nn.Module):
    """An image-to-image encoder-decoder for 32x32: [-1, 1]^{C x 32 x 32} -> [-1, 1]^{C x 32 x 32}."""

    def __init__(self, channels: int = 1, width: int = 32, n_res: int = 2):
        super().__init__()
        self.channels = channels
        self.net = nn.Sequential(
            *_down(channels, width),
            nn.ReLU(True),  # (N, C, 32, 32) -> (N, w, 16, 16)
            *_down(width, 2 * width),
            nn.ReLU(True),  # -> (N, 2w, 8, 8)
            *[_ResBlock(2 * width) for _ in range(n_res)],  # -> (N, 2w, 8, 8)
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
            nn.InstanceNorm2d(width, affine=True),
            nn.ReLU(True),  # -> (N, w, 16, 16)
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
            nn.Tanh(),  # -> (N, C, 32, 32)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "x", channels=self.channels, size=32)
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: one LSGAN score per 8x8 grid cell, (N, C, 32, 32) -> (N, 64)."""

    def __init__(self, channels: int = 1, width: int = 32):
        super().__init__()
        self.channels = channels
        self.net = nn.Sequential(
            *_down(channels, width, norm=False),
            nn.LeakyReLU(0.2, True),  # (N, C, 32, 32) -> (N, w, 16, 16)
            *_down(width, 2 * width),
            nn.LeakyReLU(0.2, True),  # -> (N, 2w, 8, 8)
            nn.Conv2d(2 * width, 1, 3, 1, 1),  # -> (N, 1, 8, 8)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "x", channels=self.channels, size=32)
        return self.net(x).flatten(1)  # (N, 1, 8, 8) -> (N, 64)


def cycle_consistency_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """L_cyc = (1/(N C H W)) sum |x_rec - x|, the mean absolute error of x_hat = F(G(x)) against x.

    The paper writes E ||F(G(x)) - x||_1; like its code we average over pixels, so lambda_cyc = 10
    means the same as there. Book: {eq}`cyclegan-cycle`
    """
    check_same_shape(x, x_rec, "x, x_rec")
    return (x_rec - x).abs().mean()


def cyclegan_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """A generator's adversarial term in CycleGAN: L_GAN^G = mean_j (D(G(x_j)) - 1)^2, no factor 1/2.

    Zhu et al. (2017), Sec. 4 and their code (``nn.MSELoss`` against target 1): twice Mao et al.'s
    :func:`~glo_teach.gan.losses.lsgan_generator_loss` (1/2 mean (D(G(z)) - c)^2, c = 1), so that
    lambda_cyc = 10 weighs the cycle loss against it as in the paper. ``fake_scores``: (N,) or
    (N, 1), one score per patch. Book: {eq}`cyclegan-objective`
    """
    return 2 * lsgan_generator_loss(fake_scores)


def identity_loss(
    G: nn.Module, F: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """L_id = mean|G(y) - y| + mean|F(x) - x|: each generator fed an image of its *output* domain.

    G: X -> Y should leave a real y unchanged, F: Y -> X a real x (Zhu et al. 2017, Sec. 5.2,
    ``idt_A = G_A(real_B)`` in their code); x from domain X, y from domain Y, same shapes as the
    networks take. Book: {eq}`cyclegan-objective`
    """
    return cycle_consistency_loss(y, G(y)) + cycle_consistency_loss(x, F(x))


@torch.no_grad()
def translation_error(
    generator: nn.Module, x: torch.Tensor, y_true: torch.Tensor, batch_size: int = 500
) -> float:
    """mean_i mean_pixels |G(x_i) - y_i|, the distance of translations from the known right answers.

    With y_true = T(x) for the transform T defining domain Y; 0 for a perfect translator, and
    pixels live in [-1, 1] so an error of 1 is half the range. G runs in eval mode.
    Book: {eq}`cyclegan-translation-error`
    """
    check_images(x, "x")
    check_same_shape(x, y_true, "x, y_true")
    params = list(generator.parameters())
    device = params[0].device if params else x.device
    with eval_mode(generator):
        total = sum(
            (generator(xb.to(device)).cpu() - yb).abs().double().sum().item()
            for xb, yb in zip(x.split(batch_size), y_true.split(batch_size))
        )
    return total / x.numel()


def train_cyclegan(
    G: nn.Module,
    F: nn.Module,
    D_x: nn.Module,
    D_y: nn.Module,
    data_x: ImageDataset,
    data_y: ImageDataset,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    cycle_weight: float = 10.0,
    identity_weight: float = 0.0,
    device: torch.device | str | None = None,
    seed: int = 0,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 500,
    log_every: int = 1,
) -> dict[str, list]:
    """Train G: X -> Y, F: Y -> X against D_Y, D_X for ``steps`` steps (in place).

    Each step is one discriminator step on L_D, then one generator step on

        L_G = cyclegan_adversarial_loss(D_Y(G(x))) + cyclegan_adversarial_loss(D_X(F(y)))
              + cycle_weight * L_cyc + identity_weight * identity_loss(G, F, x, y)

    (the module docstring; Book: {eq}`cyclegan-objective`), both with Adam(lr, betas). Checkpointing,
    exact resume and the divergence guard work as in :func:`~glo_teach.gan.train.train_gan`.
    Returns the history: ``step``, ``d_loss``, ``g_loss`` (total), ``cycle_loss`` (the two
    cycle terms, unweighted) and ``time``, every ``log_every`` steps.
    """
    for net, name in ((G, "G"), (F, "F"), (D_x, "D_x"), (D_y, "D_y")):
        if not isinstance(net, nn.Module):
            raise TypeError(
                f"{name} must be a torch.nn.Module, got {type(net).__name__}"
            )
    for v, name in (
        (steps, "steps"),
        (batch_size, "batch_size"),
        (checkpoint_every, "checkpoint_every"),
        (log_every, "log_every"),
    ):
        check_positive_int(v, name)
    check_positive_number(lr, "lr")
    for v, name in (
        (cycle_weight, "cycle_weight"),
        (identity_weight, "identity_weight"),
    ):
        if not (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and v >= 0
        ):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    device = torch.device(device) if device is not None else default_device()
    nets = {"G": G, "F": F, "D_x": D_x, "D_y": D_y}
    for net in nets.values():
        net.to(device).train()
    opt_g = torch.optim.Adam([*G.parameters(), *F.parameters()], lr=lr, betas=betas)
    opt_d = torch.optim.Adam([*D_x.parameters(), *D_y.parameters()], lr=lr, betas=betas)
    real_x, real_y = (
        RealBatches(data_x, batch_size, seed, device),
        RealBatches(data_y, batch_size, seed + 1, device),
    )
    history: dict[str, list] = {
        "step": [],
        "d_loss": [],
        "g_loss": [],
        "cycle_loss": [],
        "time": [],
    }
    seed_everything(seed)
    start, elapsed = 0, 0.0

    parts = {**nets, "opt_g": opt_g, "opt_d": opt_d, "real_x": real_x, "real_y": real_y}
    state = load_checkpoint(checkpoint_dir)
    if state is not None:  # resume exactly where the last checkpoint left off
        restore(state, parts)
        start, history, elapsed = state["step"], state["history"], state["elapsed"]

    hint = f"lr={lr:g}"
    t0 = time.perf_counter() - elapsed
    for step in progress(range(start, steps), total=steps - start, desc="CycleGAN"):
        x, _ = real_x.next()  # (B, C, 32, 32) from domain X
        y, _ = real_y.next()  # (B, C, 32, 32) from domain Y (unpaired with x)

        # --- discriminators: D_Y tells y from G(x), D_X tells x from F(y) ---
        with torch.no_grad():
            y_fake, x_fake = G(x), F(y)
        loss_d = (
            lsgan_discriminator_loss(
                D_y(y).reshape(-1), D_y(y_fake).reshape(-1)
            )  # one score per patch
            + lsgan_discriminator_loss(D_x(x).reshape(-1), D_x(x_fake).reshape(-1))
        )
        check_finite(step, hint, loss_d=loss_d)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # --- generators: fool both discriminators and close both cycles ---
        y_fake, x_fake = G(x), F(y)  # x -> y_hat, y -> x_hat
        loss_adv = cyclegan_adversarial_loss(
            D_y(y_fake).reshape(-1)
        ) + cyclegan_adversarial_loss(D_x(x_fake).reshape(-1))
        loss_cyc = cycle_consistency_loss(x, F(y_fake)) + cycle_consistency_loss(
            y, G(x_fake)
        )
        loss_g = loss_adv + cycle_weight * loss_cyc
        if (
            identity_weight > 0
        ):  # G meets a real y, F a real x: both should pass them through unchanged
            loss_g = loss_g + identity_weight * identity_loss(G, F, x, y)
        check_finite(step, hint, loss_g=loss_g)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        check_bounded(
            step,
            [
                p
                for name, net in nets.items()
                for p in net.named_parameters(prefix=name)
            ],
            hint,
        )

        done = step + 1
        if step % log_every == 0 or done == steps:
            for key, v in (
                ("step", step),
                ("d_loss", loss_d.item()),
                ("g_loss", loss_g.item()),
                ("cycle_loss", loss_cyc.item()),
                ("time", time.perf_counter() - t0),
            ):
                history[key].append(v)
        if checkpoint_dir is not None and (
            done % checkpoint_every == 0 or done == steps
        ):
            save_checkpoint(
                checkpoint_dir,
                capture(
                    parts, step=done, history=history, elapsed=time.perf_counter() - t0
                ),
            )
    return history
