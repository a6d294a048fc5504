"""Training the four models of Table 1 on the same fit images, with the settings of one :class:`Protocol`.

PCA with d components; a VAE (Gaussian likelihood, sigma = ``vae_sigma``, Adam ``vae_lr``); a DCGAN
(non-saturating loss, Adam ``gan_lr``, beta1 ``gan_beta1``, batch ``gan_batch``); GLO (``glo_settings``,
PCA init, MSE for MNIST and Fashion-MNIST, l2 + Lap1 otherwise). All deep models share the DCGAN
generator of width ``protocol.width``.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..baselines import PCA
from ..data import ImageDataset
from ..gan.train import train_gan
from ..glo import train_glo
from ..nets import DCGANDiscriminator, DCGANGenerator
from ..seed import seed_everything
from ..vae import VAE, train_vae
from .protocol import Protocol

__all__ = ["train_models"]


def train_models(
    fit: ImageDataset,
    d: int,
    protocol: Protocol,
    glo_loss_kind: str,
    device,
    seed: int,
    seconds: dict | None = None,
    checkpoint_root: str | Path | None = None,
) -> dict:
    """{"PCA", "VAE", "DCGAN", "GLO", "codes"}: the models fitted to ``fit``; wall times into ``seconds``.

    ``checkpoint_root``: each loop checkpoints into (and resumes from) its own folder there
    (``vae``, ``dcgan``, ``glo``), so a killed run continues where it stopped.
    """
    seconds = {} if seconds is None else seconds
    ckpt = (
        (lambda name: None)
        if checkpoint_root is None
        else (lambda name: Path(checkpoint_root) / name)
    )
    c, s = fit.image_shape[0], fit.image_shape[1]
    w = protocol.width
    t = time.perf_counter()
    pca = PCA(d).fit(fit.images)
    seconds["train PCA"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    vae, _ = train_vae(
        VAE(d, c, s, w),
        fit,
        epochs=protocol.vae_epochs,
        batch_size=protocol.batch_size,
        lr=protocol.vae_lr,
        likelihood="gaussian",
        sigma=protocol.vae_sigma,
        device=device,
        seed=seed,
        checkpoint_dir=ckpt("vae"),
        max_steps=protocol.max_steps,
    )
    seconds["train VAE"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    g_gan, d_gan = DCGANGenerator(d, c, s, w), DCGANDiscriminator(c, s, w)
    train_gan(
        g_gan,
        d_gan,
        fit,
        loss="nonsaturating",
        steps=protocol.gan_steps,
        batch_size=min(protocol.gan_batch, len(fit)),
        lr_g=protocol.gan_lr,
        lr_d=protocol.gan_lr,
        betas=(protocol.gan_beta1, 0.999),
        device=device,
        seed=seed,
        checkpoint_dir=ckpt("dcgan"),
    )
    seconds["train DCGAN"] = time.perf_counter() - t

    t = time.perf_counter()
    seed_everything(seed)
    g_glo, codes, _ = train_glo(
        DCGANGenerator(d, c, s, w),
        fit,
        d,
        loss=glo_loss_kind,
        epochs=protocol.glo_epochs,
        batch_size=protocol.batch_size,
        init=protocol.glo_init,
        device=device,
        seed=seed,
        checkpoint_dir=ckpt("glo"),
        max_steps=protocol.max_steps,
        **protocol.glo_settings(),
    )
    seconds["train GLO"] = time.perf_counter() - t
    return {
        "PCA": pca,
        "VAE": vae.eval(),
        "DCGAN": g_gan.eval(),
        "GLO": g_glo.eval(),
        "codes": codes,
    }
