"""GAN losses as pure functions of the discriminator's outputs (both players *minimise* them).

- Minimax (Goodfellow et al. 2014): D minimises -V; G minimises log(1 - D(G(z))) ("saturating").
- Non-saturating: G minimises -log D(G(z)) instead, same fixed point, strong gradients early on.
- LSGAN (Mao et al. 2017): least squares on raw scores with targets a = 0 (fake), b = 1 (real)
  for D and c = 1 for G (the "0-1 coding"; a = -1, b = 1, c = 0 gives the Pearson chi^2 version).
- WGAN (Arjovsky et al. 2017): the critic f estimates W1 by the Kantorovich-Rubinstein dual.
- Hinge (Lim & Ye 2017; Miyato et al. 2018): margin loss for D, -f(G(z)) for G.

Inputs are logits (minimax, non-saturating) or raw scores (the others): one per sample, shape
(N,) or (N, 1); every loss is a mean over the batch, hence a scalar. Logs are taken with
``F.logsigmoid`` / ``F.softplus`` (softplus(l) = -logsigmoid(-l)), finite for any finite logit.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .value import _check_logits, minimax_value

__all__ = [
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_nonsaturating",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "GAN_LOSSES",
]


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """D's loss, the negated empirical value (binary cross-entropy, real = 1, fake = 0).

    L_D = -V_hat = -mean log D(x) - mean log(1 - D(G(z)))
        = mean softplus(-real_logits) + mean softplus(fake_logits)   (>= 0; 2 log 2 at logits 0).
    Book: {eq}`gan-d-loss`.
    """
    return -minimax_value(real_logits, fake_logits)


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss in the original minimax game (it saturates when D rejects the fakes).

    L_G^sat = mean log(1 - D(G(z))) = mean logsigmoid(-fake_logits) = -mean softplus(fake_logits)
    (<= 0; -log 2 at logit 0). d L / d l = -sigmoid(l) / M -> 0 as D(G(z)) -> 0.
    Book: {eq}`gan-saturating`, {eq}`gan-saturating-grad`.
    """
    fake_logits = _check_logits(fake_logits, "fake_logits")
    return F.logsigmoid(-fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss ("maximise the probability that the fake is called real").

    L_G^ns = -mean log D(G(z)) = mean softplus(-fake_logits)   (>= 0; log 2 at logit 0).
    d L / d l = -(1 - sigmoid(l)) / M -> -1/M as D(G(z)) -> 0. Book: {eq}`gan-nonsaturating`.
    """
    fake_logits = _check_logits(fake_logits, "fake_logits")
    return F.softplus(-fake_logits).mean()


def lsgan_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, a: float = 0.0, b: float = 1.0
) -> torch.Tensor:
    """LSGAN discriminator loss on raw scores (no sigmoid).

    L_D = 1/2 mean (D(x) - b)^2 + 1/2 mean (D(G(z)) - a)^2,   targets b = 1 (real), a = 0 (fake).
    Book: {eq}`lsgan-loss`.
    """
    real_scores = _check_logits(real_scores, "real_scores")
    fake_scores = _check_logits(fake_scores, "fake_scores")
    return 0.5 * ((real_scores - b) ** 2).mean() + 0.5 * ((fake_scores - a) ** 2).mean()


def lsgan_generator_loss(fake_scores: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """LSGAN generator loss: L_G = 1/2 mean (D(G(z)) - c)^2 with target c = 1. Book: {eq}`lsgan-loss`."""
    fake_scores = _check_logits(fake_scores, "fake_scores")
    return 0.5 * ((fake_scores - c) ** 2).mean()


def wgan_critic_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> torch.Tensor:
    """WGAN critic loss: L_f = mean f(G(z)) - mean f(x).

    Its negation, mean f(x) - mean f(G(z)), is the critic's estimate of W1(p_data, p_g) when f is
    1-Lipschitz; the Lipschitz constraint (clipping, gradient penalty, spectral norm) is applied
    separately. Book: {eq}`wgan-critic`.
    """
    real_scores = _check_logits(real_scores, "real_scores")
    fake_scores = _check_logits(fake_scores, "fake_scores")
    return fake_scores.mean() - real_scores.mean()


def wgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN generator loss: L_G = -mean f(G(z)). Book: {eq}`wgan-generator`."""
    fake_scores = _check_logits(fake_scores, "fake_scores")
    return -fake_scores.mean()


def hinge_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> torch.Tensor:
    """Hinge loss for D: L_D = mean relu(1 - D(x)) + mean relu(1 + D(G(z))). Book: {eq}`gan-hinge`."""
    real_scores = _check_logits(real_scores, "real_scores")
    fake_scores = _check_logits(fake_scores, "fake_scores")
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Hinge loss for G: L_G = -mean D(G(z)) (the WGAN generator loss). Book: {eq}`gan-hinge`."""
    return wgan_generator_loss(fake_scores)


LossFn = Callable[..., torch.Tensor]

# name -> (D loss(real, fake), G loss(fake)); "minimax" is the original game with the saturating G loss.
# The Lipschitz constraint of "wgan" (clipping or gradient penalty) is chosen by the training loop.
GAN_LOSSES: dict[str, tuple[LossFn, LossFn]] = {
    "minimax": (discriminator_loss, generator_loss_saturating),
    "nonsaturating": (discriminator_loss, generator_loss_nonsaturating),
    "lsgan": (lsgan_discriminator_loss, lsgan_generator_loss),
    "wgan": (wgan_critic_loss, wgan_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}
