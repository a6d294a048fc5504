"""Checks for the VAE chapter: the Gaussian KL, the ELBO and the reparameterisation trick.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..vae.elbo import bernoulli_log_likelihood, elbo, gaussian_kl
from ._core import StudentError, as_tensor, call, close, diagnose, student_check

__all__ = ["check_gaussian_kl", "check_elbo", "check_reparameterize"]

F64 = torch.float64


def _mu_logvar(g: torch.Generator, n: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(n, d, generator=g, dtype=F64), torch.randn(
        n, d, generator=g, dtype=F64
    )


@student_check
def check_gaussian_kl(fn: Callable) -> str:
    """fn(mu, logvar) must return KL(N(mu, diag exp(logvar)) || N(0, I)) = 1/2 sum_j (mu^2 + sigma^2 - 1 - log sigma^2)
    per sample, shape (N,). Book: {eq}`vae-gaussian-kl`."""
    g = torch.Generator().manual_seed(20)
    cases = [
        ("mu and logvar of shape (6, 4)", _mu_logvar(g, 6, 4)),
        ("mu and logvar of shape (3, 7)", _mu_logvar(g, 3, 7)),
    ]
    return diagnose(
        fn,
        gaussian_kl,
        cases,
        [
            (
                "logvar is log sigma^2: sigma^2 = exp(logvar), so you used log sigma in its place",
                lambda mu, lv: gaussian_kl(mu, 2 * lv),
            ),
            (
                "the sign of the log sigma^2 term is flipped: it is - log sigma^2",
                lambda mu, lv: gaussian_kl(mu, lv) + lv.sum(1),
            ),
            (
                "you average over the latent dimensions; the KL of independent dimensions is their *sum*",
                lambda mu, lv: gaussian_kl(mu, lv) / mu.shape[1],
            ),
            (
                "you reduce over the batch; return one KL per sample (shape (N,))",
                lambda mu, lv: gaussian_kl(mu, lv).mean(),
            ),
            (
                "you reduce over the batch; return one KL per sample (shape (N,))",
                lambda mu, lv: gaussian_kl(mu, lv).sum(),
            ),
            (
                "sum over the latent dimensions (dim 1), not over the batch (dim 0)",
                lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum(0),
            ),
        ],
    )


def _elbo_cases(seed: int) -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for n, d in [(4, 3), (2, 5)]:
        x = torch.rand(n, 1, 8, 8, generator=g, dtype=F64) * 2 - 1  # images in [-1, 1]
        logits = 2 * torch.randn(n, 1, 8, 8, generator=g, dtype=F64)
        cases.append(
            (
                f"{n} images (1, 8, 8) and {d}-dim codes",
                (x, logits, *_mu_logvar(g, n, d)),
            )
        )
    return cases


@student_check
def check_elbo(fn: Callable) -> str:
    """fn(x, x_logits, mu, logvar) must return ELBO = log p(x|z) - KL(q(z|x) || N(0, I)) per image (N,),
    Bernoulli log-likelihood of t = (x + 1)/2 under the logits. Book: {eq}`vae-elbo`, {eq}`vae-bernoulli`."""

    def ref(x, logits, mu, lv):
        return elbo(x, logits, mu, lv, "bernoulli")

    def ll_untransformed(x, logits):
        return (
            -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
            .flatten(1)
            .sum(1)
        )

    return diagnose(
        fn,
        ref,
        _elbo_cases(21),
        [
            (
                "the KL enters with the wrong sign: the ELBO is log p(x|z) *minus* KL(q || p)",
                lambda x, lg, mu, lv: (
                    bernoulli_log_likelihood(x, lg) + gaussian_kl(mu, lv)
                ),
            ),
            (
                "map the pixels to Bernoulli targets t = (x + 1) / 2 in [0, 1] first",
                lambda x, lg, mu, lv: ll_untransformed(x, lg) - gaussian_kl(mu, lv),
            ),
            (
                "log p(x|z) is a *sum* over the pixels, not a mean",
                lambda x, lg, mu, lv: (
                    bernoulli_log_likelihood(x, lg) / x[0].numel() - gaussian_kl(mu, lv)
                ),
            ),
            (
                "the KL term is missing",
                lambda x, lg, mu, lv: bernoulli_log_likelihood(x, lg),
            ),
            (
                "you reduce over the batch; return one ELBO per image (shape (N,))",
                lambda *a: ref(*a).mean(),
            ),
            (
                "that is the loss -ELBO; return the ELBO itself (a training loop minimises its negation)",
                lambda *a: -ref(*a),
            ),
        ],
    )


@student_check
def check_reparameterize(fn: Callable) -> str:
    """fn(mu, logvar) must return z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) of shape (N, d), one
    independent eps per sample and dimension, differentiable w.r.t. mu and logvar.
    The eps the student drew is read back as (z - mu) / sigma. Book: {eq}`vae-reparam`."""
    n = 4000
    mu = (
        torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=F64).repeat(n, 1).requires_grad_(True)
    )  # (n, 4)
    logvar = (
        torch.tensor([-2.0, -0.5, 0.5, 1.5], dtype=F64)
        .repeat(n, 1)
        .requires_grad_(True)
    )  # (n, 4)
    z = as_tensor(call(fn, mu, logvar), mu)
    if z.shape != mu.shape:
        raise StudentError(
            f"z must have the shape of mu, {tuple(mu.shape)}, got {tuple(z.shape)}"
        )
    z_, mu_, lv_ = z.detach(), mu.detach(), logvar.detach()
    if close(z_, mu_):
        raise StudentError("z equals mu: no noise was added")
    spread = z_.std(0)  # (4,) empirical standard deviation per dimension
    for sd, hint in [
        (
            lv_[0].exp(),
            "you used exp(logvar) = sigma^2 as the standard deviation; sigma = exp(logvar / 2)",
        ),
        (
            lv_[0].abs(),
            "logvar is log sigma^2; the standard deviation is exp(logvar / 2)",
        ),
        (
            torch.ones(4, dtype=F64),
            "the noise is not scaled by sigma = exp(logvar / 2)",
        ),
    ]:
        if ((spread - sd).abs() < 0.1 * sd).all():
            raise StudentError(hint)
    eps = (z_ - mu_) / (0.5 * lv_).exp()  # (n, 4): the noise the student drew
    if (eps - eps[:1]).abs().max() < 1e-12:
        raise StudentError(
            "every sample shares one eps: draw eps with the shape of mu, (N, d)"
        )
    if (eps - eps[:, :1]).abs().max() < 1e-12:
        raise StudentError(
            "one eps per sample is shared by all latent dimensions: draw eps of shape (N, d)"
        )
    if (eps.mean(0).abs() > 0.1).any() or ((eps.std(0) - 1).abs() > 0.1).any():
        raise StudentError(
            "z - mu is not sigma times standard normal noise: eps ~ N(0, I) (torch.randn), "
            "z = mu + sigma * eps"
        )
    if not z.requires_grad:
        raise StudentError(
            "z is not differentiable w.r.t. mu and logvar: compute it from them with tensor ops "
            "(no torch.no_grad, no .detach(), no sampling from a distribution object)"
        )
    g_mu, g_lv = torch.autograd.grad(z.sum(), (mu, logvar), allow_unused=True)
    if (
        g_mu is None
        or g_lv is None
        or not close(g_mu, torch.ones_like(mu_))
        or not close(g_lv, 0.5 * (z_ - mu_))
    ):
        raise StudentError(
            "the gradient does not flow as in z = mu + exp(logvar / 2) * eps: dz/dmu must be 1 and "
            "dz/dlogvar = (z - mu) / 2"
        )
    return f"z has the right mean, scale and independent noise over {n} samples, and gradients reach mu and logvar"
