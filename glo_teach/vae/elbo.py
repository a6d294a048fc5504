"""The evidence lower bound (ELBO) of a VAE, its closed-form Gaussian KL and the reparameterisation trick.

For an encoder q(z|x) = N(mu, diag sigma^2), the prior p(z) = N(0, I) and a decoder p(x|z):

    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z)),

with equality exactly when q(z|x) is the true posterior p(z|x). Everything here is per sample
(shape (N,)) and in nats; a training loss is ``-elbo(...).mean()``.

Images live in [-1, 1]. The Bernoulli likelihood models the pixel intensity mapped to [0, 1],
t = (x + 1) / 2; the Gaussian likelihood models x itself, in [-1, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._validate import check_images, check_latent, check_same_shape, check_tensor
from ..data.constants import PIXEL_MIN, PIXEL_RANGE

__all__ = [
    "gaussian_kl",
    "reparameterize",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "elbo",
    "LIKELIHOODS",
]

LIKELIHOODS = ("bernoulli", "gaussian")


def _check_mu_logvar(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    check_latent(mu, name="mu")
    check_latent(logvar, name="logvar")
    check_same_shape(mu, logvar, "mu and logvar")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per sample, summed over the latent dimensions.

    KL_n = 1/2 * sum_j (mu_nj^2 + sigma_nj^2 - 1 - log sigma_nj^2),  sigma^2 = exp(logvar).
    Shapes: mu, logvar (N, d) -> (N,). Always >= 0, and 0 iff mu = 0 and logvar = 0.
    Book: {eq}`vae-gaussian-kl`
    """
    _check_mu_logvar(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)  # (N, d) -> (N,)


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2).

    z is a differentiable function of (mu, logvar), so gradients of E_q[f(z)] reach the encoder.
    ``generator`` (on mu's device) makes eps reproducible. Shapes: (N, d) -> (N, d).
    Book: {eq}`vae-reparam`
    """
    _check_mu_logvar(mu, logvar)
    eps = torch.randn(
        mu.shape, generator=generator, device=mu.device, dtype=mu.dtype
    )  # (N, d)
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = sum_i [t_i log s(l_i) + (1 - t_i) log(1 - s(l_i))] per image, t = (x + 1) / 2.

    ``x`` in [-1, 1] is mapped to the target t in [0, 1]; ``logits`` l are the decoder's logits,
    s the logistic sigmoid. Computed as -BCEWithLogits(l, t) summed over (C, H, W), which is
    exact for binary t. For grey levels t in (0, 1) it is the cross-entropy that VAEs use on
    MNIST, not a normalised density (the continuous Bernoulli adds the missing constant).
    Shapes: (N, C, H, W) -> (N,). Book: {eq}`vae-bernoulli`
    """
    check_images(x, "x", check_range=True)
    check_images(logits, "logits")
    check_same_shape(x, logits, "x and logits")
    t = (x - PIXEL_MIN) / PIXEL_RANGE  # [-1, 1] -> [0, 1]
    return (
        -F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        .flatten(1)
        .sum(1)
    )  # (N,)


def gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, sigma: float
) -> torch.Tensor:
    """log N(x; mean, sigma^2 I) per image, normalising constant included (nats).

    log p(x|z) = -1/(2 sigma^2) ||x - mean||^2 - D log sigma - (D/2) log(2 pi),  D = C*H*W.
    Shapes: (N, C, H, W) -> (N,). Book: {eq}`vae-gaussian-likelihood`
    """
    check_images(x, "x")
    check_images(mean, "mean")
    check_same_shape(x, mean, "x and mean")
    if not (isinstance(sigma, (int, float)) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    d = x[0].numel()
    sq = (x - mean).pow(2).flatten(1).sum(1)  # (N, C, H, W) -> (N,)
    return -0.5 * sq / sigma**2 - d * math.log(sigma) - 0.5 * d * math.log(2 * math.pi)


def elbo(
    x: torch.Tensor,
    x_logits_or_mean: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    likelihood: str = "bernoulli",
    sigma: float = 0.1,
) -> torch.Tensor:
    """One-sample estimate of the ELBO per image, in nats: log p(x|z) - KL(q(z|x) || N(0, I)).

    ``x_logits_or_mean`` is the decoder's output at one z = mu + sigma_q * eps ~ q(z|x):
    Bernoulli logits for ``likelihood="bernoulli"``, the Gaussian mean (in [-1, 1]) for
    ``likelihood="gaussian"`` with the fixed standard deviation ``sigma``. The KL term is exact
    (closed form); the reconstruction term is unbiased, so E_eps[elbo] = ELBO <= log p(x).
    Shapes: x (N, C, H, W), mu and logvar (N, d) -> (N,). Book: {eq}`vae-elbo`
    """
    check_tensor(x, "x")
    _check_mu_logvar(mu, logvar)
    if mu.shape[0] != x.shape[0]:
        raise ValueError(
            f"x and mu must have the same batch size, got {x.shape[0]} and {mu.shape[0]}"
        )
    if likelihood == "bernoulli":
        log_px_z = bernoulli_log_likelihood(x, x_logits_or_mean)
    elif likelihood == "gaussian":
        log_px_z = gaussian_log_likelihood(x, x_logits_or_mean, sigma)
    else:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    return log_px_z - gaussian_kl(mu, logvar)  # (N,)
