"""Checks for the GAN chapters: D*, KL, JS, the value, the non-saturating loss, GP, power iteration.

Each ``check_*(fn)`` compares the student's ``fn`` with the library's reference on fixed-seed
random inputs and prints one line; see :mod:`glo_teach.checks` for the conventions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..gan.lipschitz import gradient_penalty, power_iteration
from ..gan.losses import generator_loss_nonsaturating, generator_loss_saturating
from ..gan.value import (
    js_divergence,
    kl_divergence,
    minimax_value,
    optimal_discriminator,
)
from ._core import (
    StudentError,
    as_tensor,
    call,
    close,
    compare,
    diagnose,
    expect_case,
    seeded,
    student_check,
)

__all__ = [
    "check_optimal_discriminator",
    "check_kl_divergence",
    "check_js_divergence",
    "check_minimax_value",
    "check_nonsaturating_loss",
    "check_gradient_penalty",
    "check_power_iteration",
]

F64 = torch.float64


def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=F64)


def _probs(g: torch.Generator, *shape: int) -> torch.Tensor:
    """Strictly positive probability vectors over the last dim."""
    p = torch.rand(shape, generator=g, dtype=F64) + 0.05
    return p / p.sum(-1, keepdim=True)


def _kl_terms(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return torch.xlogy(p, p) - torch.xlogy(p, q)  # p log(p / q), elementwise


def _prob_cases(seed: int) -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(seed)
    return [
        ("two probability vectors of length 6", (_probs(g, 6), _probs(g, 6))),
        (
            "a batch of 4 pairs of length 5 (shape (4, 5))",
            (_probs(g, 4, 5), _probs(g, 4, 5)),
        ),
    ]


@student_check
def check_optimal_discriminator(fn: Callable) -> str:
    """fn(p_data, p_g) must return D* = p_data / (p_data + p_g) elementwise, 1/2 where both are 0.
    Book: {eq}`gan-optimal-d`."""
    g = torch.Generator().manual_seed(0)
    cases = [
        (
            "densities of shape (7,)",
            (
                torch.rand(7, generator=g, dtype=F64),
                torch.rand(7, generator=g, dtype=F64),
            ),
        ),
        (
            "densities of shape (3, 5)",
            (
                torch.rand(3, 5, generator=g, dtype=F64),
                torch.rand(3, 5, generator=g, dtype=F64),
            ),
        ),
    ]
    ok = diagnose(
        fn,
        optimal_discriminator,
        cases,
        [
            (
                "the arguments are swapped: you return p_g / (p_data + p_g) = 1 - D*",
                lambda p, q: optimal_discriminator(q, p),
            ),
            (
                "you return the density ratio p_data / p_g; D* is a probability, p_data over the *sum*",
                lambda p, q: optimal_discriminator(p, q) / optimal_discriminator(q, p),
            ),
        ],
    )
    p, q = (
        torch.tensor([0.3, 0.0, 0.2], dtype=F64),
        torch.tensor([0.1, 0.0, 0.0], dtype=F64),
    )
    expect_case(
        fn,
        optimal_discriminator,
        (p, q),
        "wrong where p_data = p_g = 0 (a 0/0): the chapter's convention is D* = 1/2 there",
    )
    return ok + ", and gives 1/2 where both densities vanish"


@student_check
def check_kl_divergence(fn: Callable) -> str:
    """fn(p, q) must return KL(p || q) = sum_i p_i log(p_i / q_i) over the last dim, in nats.
    Book: {eq}`gan-kl`."""
    ok = diagnose(
        fn,
        kl_divergence,
        _prob_cases(1),
        [
            (
                "the arguments are swapped: you compute KL(q || p); KL is not symmetric",
                lambda p, q: kl_divergence(q, p),
            ),
            (
                "you sum over the first dim; sum over the last dim (one value per pair)",
                lambda p, q: _kl_terms(p, q).sum(0),
            ),
            (
                "the sign of the log-ratio is flipped: log(q / p) instead of log(p / q)",
                lambda p, q: -kl_divergence(p, q),
            ),
        ],
    )
    p, q = (
        torch.tensor([0.5, 0.5, 0.0], dtype=F64),
        torch.tensor([0.25, 0.25, 0.5], dtype=F64),
    )
    expect_case(
        fn,
        kl_divergence,
        (p, q),
        "wrong where p_i = 0: the convention is 0 log 0 = 0 (torch.xlogy)",
    )
    return ok + ", and uses 0 log 0 = 0"


@student_check
def check_js_divergence(fn: Callable) -> str:
    """fn(p, q) must return JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, over the last dim.
    Book: {eq}`gan-js`."""
    ok = diagnose(
        fn,
        js_divergence,
        _prob_cases(2),
        [
            (
                "no mixture: you average KL(p || q) and KL(q || p); JS compares each of p and q with m = (p + q) / 2",
                lambda p, q: 0.5 * (kl_divergence(p, q) + kl_divergence(q, p)),
            ),
            (
                "only one half: JS needs both KL(p || m) and KL(q || m)",
                lambda p, q: 0.5 * kl_divergence(p, (p + q) / 2),
            ),
            (
                "the mixture is m = (p + q) / 2, not p + q",
                lambda p, q: 0.5 * (_kl_terms(p, p + q) + _kl_terms(q, p + q)).sum(-1),
            ),
            (
                "you sum over the first dim; sum over the last dim (one value per pair)",
                lambda p, q: (
                    0.5 * (_kl_terms(p, (p + q) / 2) + _kl_terms(q, (p + q) / 2)).sum(0)
                ),
            ),
        ],
    )
    p, q = (
        torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=F64),
        torch.tensor([0.0, 0.0, 0.5, 0.5], dtype=F64),
    )
    expect_case(
        fn,
        js_divergence,
        (p, q),
        "wrong for disjoint supports (expected log 2): use 0 log 0 = 0 (torch.xlogy)",
    )
    return ok + ", and gives log 2 for disjoint supports"


def _logit_cases(seed: int) -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(seed)
    return [
        ("16 real and 12 fake logits", (3 * _randn(g, 16), 3 * _randn(g, 12))),
        ("logits of shape (10, 1) and (7, 1)", (_randn(g, 10, 1), _randn(g, 7, 1))),
    ]


_LOGSIGMOID_HINT = "sigmoid-then-log rounds to log 0 for large logits; use F.logsigmoid (or F.softplus)"


@student_check
def check_minimax_value(fn: Callable) -> str:
    """fn(real_logits, fake_logits) must return V = mean log D(x) + mean log(1 - D(G(z))) with
    D = sigmoid(logit), a scalar. Book: {eq}`gan-value-empirical`."""
    ok = diagnose(
        fn,
        minimax_value,
        _logit_cases(3),
        [
            (
                "the fake term must be log(1 - D(G(z))), not log D(G(z))",
                lambda r, f: minimax_value(r, -f),
            ),
            (
                "you sum over the batch; average instead (the two batches may have different sizes)",
                lambda r, f: F.logsigmoid(r).sum() + F.logsigmoid(-f).sum(),
            ),
            (
                "you take the mean over real and fake logits pooled; average each term over its own batch",
                lambda r, f: torch.cat(
                    [F.logsigmoid(r).flatten(), F.logsigmoid(-f).flatten()]
                ).mean(),
            ),
        ],
    )
    big = torch.tensor([100.0, -100.0], dtype=F64)
    expect_case(
        fn,
        minimax_value,
        (big, -big),
        f"not finite (or wrong) for logits of +-100: {_LOGSIGMOID_HINT}",
    )
    return ok + ", and stays finite for logits of +-100"


@student_check
def check_nonsaturating_loss(fn: Callable) -> str:
    """fn(fake_logits) must return L_G = -mean log D(G(z)), a scalar. Book: {eq}`gan-nonsaturating`."""
    g = torch.Generator().manual_seed(4)
    cases = [
        ("16 fake logits", (3 * _randn(g, 16),)),
        ("fake logits of shape (9, 1)", (_randn(g, 9, 1),)),
    ]
    ok = diagnose(
        fn,
        generator_loss_nonsaturating,
        cases,
        [
            (
                "that is the saturating loss log(1 - D(G(z))); the non-saturating one uses log D(G(z))",
                generator_loss_saturating,
            ),
            (
                "-log(1 - D(G(z))) is the discriminator's fake term; G wants D(G(z)) large: -log D(G(z))",
                lambda f: -generator_loss_saturating(f),
            ),
            (
                "you sum over the batch; average instead",
                lambda f: len(f) * generator_loss_nonsaturating(f),
            ),
        ],
    )
    low = torch.tensor([-200.0, 0.0], dtype=F64)
    expect_case(
        fn,
        generator_loss_nonsaturating,
        (low,),
        f"not finite (or wrong) for a logit of -200: {_LOGSIGMOID_HINT}",
    )
    return ok + ", and stays finite for a logit of -200"


class _ProbeCritic(nn.Module):
    """A small tanh MLP critic (N, ...) -> (N, 1) that records every input it is called on."""

    def __init__(self, dim: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        with seeded(seed):  # nn.Linear's own init draws from the global RNG
            self.net = nn.Sequential(
                nn.Flatten(), nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, 1)
            ).double()
        with torch.no_grad():
            for w in self.net.parameters():
                w.copy_(torch.randn(w.shape, generator=g, dtype=F64))
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        return self.net(x)  # (N, ...) -> (N, D) -> (N, 1)


def _recover_eps(
    x_hat: torch.Tensor, real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """The per-sample eps_i with x_hat_i = eps_i x_i + (1 - eps_i) x_fake_i, by least squares; (N, 1, ..., 1)."""
    d = real - fake
    eps = ((x_hat - fake) * d).flatten(1).sum(1) / d.pow(2).flatten(1).sum(1)  # (N,)
    return eps.view(-1, *([1] * (real.dim() - 1)))


def _check_gp_case(fn: Callable, shape: tuple[int, ...], seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    real, fake = (
        torch.randn(shape, generator=g, dtype=F64),
        1.0 + torch.randn(shape, generator=g, dtype=F64),
    )
    critic = _ProbeCritic(real[0].numel(), seed)
    label = f"real and fake of shape {shape}"
    out = as_tensor(call(fn, critic, real, fake, seed=seed), real)
    if out.numel() != 1:
        raise StudentError(
            f"should return a scalar (the mean over the batch), got shape {tuple(out.shape)} for {label}"
        )
    seen = [x for x in critic.inputs if x.shape == real.shape]
    if not seen:
        raise StudentError(
            "your function never calls the critic on a batch shaped like `real`"
        )
    if all(torch.equal(x, real) or torch.equal(x, fake) for x in seen):
        raise StudentError(
            "the gradient is taken at the real (or fake) points; take it at random interpolates x_hat"
        )
    x_hat = next(
        x for x in reversed(seen) if not (torch.equal(x, real) or torch.equal(x, fake))
    )
    eps = _recover_eps(x_hat, real, fake)
    if not close(x_hat, eps * real + (1 - eps) * fake, atol=1e-8):
        raise StudentError(
            "x_hat is not eps_i * x_i + (1 - eps_i) * x_fake_i with one number eps_i per sample: "
            f"draw eps with shape (N, 1, ..., 1) = {tuple(eps.shape)}, not one per coordinate"
        )
    if eps.max() - eps.min() < 1e-9:
        raise StudentError(
            "one eps for the whole batch: draw one eps_i ~ U[0, 1] per sample, shape (N, 1, ..., 1)"
        )
    if eps.min() < 0 or eps.max() > 1:
        raise StudentError(
            "eps must lie in [0, 1]: draw it from U[0, 1] (torch.rand, not torch.randn)"
        )
    ref = gradient_penalty(critic.net, real, fake, eps=eps)
    x_leaf = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic.net(x_leaf).sum(), x_leaf, create_graph=True)
    norm = grad.flatten(1).norm(dim=1)  # (N,)
    mistakes = [
        (
            "the penalty is (||grad|| - 1)^2: the '- 1' (center) is missing",
            (norm**2).mean(),
        ),
        ("square the deviation: (||grad|| - 1)^2, not |.|", (norm - 1).abs().mean()),
        (
            "the norm must be per sample (flatten each sample), not over the whole batch",
            (grad.norm() - 1) ** 2,
        ),
        ("average over the batch instead of summing", ((norm - 1) ** 2).sum()),
        (
            "use the norm ||grad||, not the squared norm, inside (. - 1)^2",
            ((norm**2 - 1) ** 2).mean(),
        ),
    ]
    if real.dim() > 2:
        mistakes.append(
            (
                "the norm must be over all of a sample's coordinates (flatten(1)), not the last dim",
                ((grad.norm(dim=-1) - 1) ** 2).mean(),
            )
        )
    compare(
        [out.reshape(())], [ref], [label], [(h, [w.reshape(())]) for h, w in mistakes]
    )
    if not out.requires_grad:
        raise StudentError(
            "the penalty is not differentiable w.r.t. the critic's parameters: "
            "pass create_graph=True to torch.autograd.grad"
        )
    params = list(critic.net.parameters())
    got = torch.autograd.grad(
        out.reshape(()), params, allow_unused=True, materialize_grads=True
    )
    want = torch.autograd.grad(
        ref, params, allow_unused=True, materialize_grads=True
    )  # the last bias is unused
    if not all(close(a, b) for a, b in zip(got, want)):
        raise StudentError(
            "the value is right but its gradient w.r.t. the critic's parameters is not; "
            "keep x_hat's graph (create_graph=True) and do not detach the norm"
        )


@student_check
def check_gradient_penalty(fn: Callable) -> str:
    """fn(critic, real, fake) must return GP = (1/N) sum_i (||grad f(x_hat_i)||_2 - 1)^2 at
    x_hat_i = eps_i x_i + (1 - eps_i) x_fake_i, one eps_i ~ U[0, 1] per sample, differentiable in
    the critic's parameters. The eps the student drew is read back from the critic's input.
    Book: {eq}`wgan-gp`, {eq}`wgan-gp-interpolate`."""
    for seed, shape in enumerate([(8, 3), (8, 1, 4, 4)]):
        _check_gp_case(fn, shape, seed)
    return "per-sample eps, interpolates, norm, reduction and create_graph all right on vectors and images"


@student_check
def check_power_iteration(fn: Callable) -> str:
    """fn(W, n_iters, u) must return sigma = u^T W v after ``n_iters`` power-iteration steps from
    v = W^T u / ||W^T u|| (W reshaped to (out, -1)); a tuple (sigma, u, v) is accepted too.
    Book: {eq}`sn-power-iteration`."""
    g = torch.Generator().manual_seed(5)
    cases = [
        ("W of shape (6, 4), 1 step", (_randn(g, 6, 4), 1, _randn(g, 6))),
        (
            "a conv weight (8, 3, 3, 3), 3 steps",
            (_randn(g, 8, 3, 3, 3), 3, _randn(g, 8)),
        ),
        ("W of shape (5, 7), 0 steps", (_randn(g, 5, 7), 0, _randn(g, 5))),
    ]

    def student(W, n, u):
        out = fn(W, n, u)
        return out[0] if isinstance(out, (tuple, list)) else out

    def ref(W, n, u):
        return power_iteration(W, n, u=u)[0]

    def svd(W, n, u):
        return torch.linalg.matrix_norm(W.reshape(len(W), -1), 2)

    try:
        return diagnose(
            student,
            ref,
            cases,
            [
                (
                    "that is the Frobenius norm ||W||_F, not the largest singular value",
                    lambda W, n, u: W.norm(),
                ),
                ("your loop runs one step too many", lambda W, n, u: ref(W, n + 1, u)),
                (
                    "your loop runs one step too few",
                    lambda W, n, u: ref(W, max(n - 1, 0), u),
                ),
                (
                    "sigma is the exact SVD value; the exercise asks for the power-iteration estimate after n steps",
                    svd,
                ),
            ],
        )
    except StudentError as e:
        W, _, u = cases[1][1]
        if str(e).startswith("not implemented") or not close(
            as_tensor(call(student, W, 200, u), W), svd(W, 0, u), rtol=1e-4
        ):
            raise
        raise StudentError(
            f"{e}; with 200 steps it converges to sigma(W), so the order of the updates differs "
            "from the book's: v from u first, then u <- W v / ||W v||, v <- W^T u / ||W^T u||"
        ) from None
