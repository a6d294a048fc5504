"""The checks of chapters 1-5's problem sets: each passes a student-style right answer, reports a stub
as not implemented, and names each plausible mistake (written here as a student would write it,
not copied from the check)."""

import math

import pytest
import torch
import torch.nn.functional as F

from glo_teach import checks
from glo_teach.data import GaussianMixture1D
from glo_teach.metrics import reverse_kl_modes

F64 = torch.float64


# --- chapter 1: mixture log-density -------------------------------------------------------------
def _log_normal(x, m, s):
    return (
        -0.5 * ((x[..., None] - m) / s) ** 2
        - torch.log(s)
        - 0.5 * math.log(2 * math.pi)
    )


def mix_right(x, m, s, w):
    return torch.logsumexp(torch.log(w) + _log_normal(x, m, s), dim=-1)


MIXTURE_WRONG = {
    "sum-then-log underflows": (
        lambda x, m, s, w: torch.log((w * _log_normal(x, m, s).exp()).sum(-1)),
        "torch.logsumexp",
    ),
    "weights ignored": (
        lambda x, m, s, w: torch.logsumexp(_log_normal(x, m, s), -1),
        "mixture weights are missing",
    ),
    "std as variance": (
        lambda x, m, s, w: torch.logsumexp(
            torch.log(w)
            + (-0.5 * (x[..., None] - m) ** 2 / s - 0.5 * torch.log(2 * math.pi * s)),
            -1,
        ),
        "not variances",
    ),
    "no 1/sqrt(2 pi)": (
        lambda x, m, s, w: torch.logsumexp(
            torch.log(w) - 0.5 * ((x[..., None] - m) / s) ** 2 - torch.log(s), -1
        ),
        "1 / sqrt(2 pi) is missing",
    ),
    "no 1/sigma": (
        lambda x, m, s, w: torch.logsumexp(
            torch.log(w)
            - 0.5 * ((x[..., None] - m) / s) ** 2
            - 0.5 * math.log(2 * math.pi),
            -1,
        ),
        "1 / sigma_k is missing",
    ),
    "product of components": (
        lambda x, m, s, w: (torch.log(w) + _log_normal(x, m, s)).sum(-1),
        "weighted *sum*",
    ),
}


def test_mixture_reference_is_the_closed_form():
    x = torch.tensor([0.3, -1.0], dtype=F64)
    m, s, w = (
        torch.tensor([0.0, 1.0], dtype=F64),
        torch.tensor([1.0, 2.0], dtype=F64),
        torch.tensor([0.25, 0.75], dtype=F64),
    )
    by_hand = [
        math.log(
            0.25 * math.exp(-(xi**2) / 2) / math.sqrt(2 * math.pi)
            + 0.75 * math.exp(-((xi - 1) ** 2) / 8) / (2 * math.sqrt(2 * math.pi))
        )
        for xi in x.tolist()
    ]
    assert torch.allclose(
        GaussianMixture1D(m, s, w).log_prob(x), torch.tensor(by_hand, dtype=F64)
    )
    assert torch.allclose(mix_right(x, m, s, w), torch.tensor(by_hand, dtype=F64))


# --- chapter 2: discriminator loss ---------------------------------------------------------------
def d_right(r, f):
    return -F.logsigmoid(r).mean() - F.logsigmoid(-f).mean()


D_WRONG = {
    "sigmoid then log": (
        lambda r, f: (
            -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()
        ),
        "sigmoid-then-log",
    ),
    "value, not loss": (
        lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean(),
        "that is the value V",
    ),
    "fake label 1": (
        lambda r, f: -F.logsigmoid(r).mean() - F.logsigmoid(f).mean(),
        "fakes are labelled 0",
    ),
    "labels swapped": (
        lambda r, f: -F.logsigmoid(-r).mean() - F.logsigmoid(f).mean(),
        "labels are swapped",
    ),
    "sum": (
        lambda r, f: -F.logsigmoid(r).sum() - F.logsigmoid(-f).sum(),
        "you sum over the batch",
    ),
    "pooled mean": (
        lambda r, f: (
            -torch.cat([F.logsigmoid(r).flatten(), F.logsigmoid(-f).flatten()]).mean()
        ),
        "pooled",
    ),
}


# --- chapter 3: reverse KL of mode counts ---------------------------------------------------------
def kl_right(n):
    q = n / n.sum(-1, keepdim=True)
    return torch.where(q > 0, q * torch.log(q * n.shape[-1]), torch.zeros_like(q)).sum(
        -1
    )


KL_WRONG = {
    "forward KL": (
        lambda n: (
            1
            / n.shape[-1]
            * torch.log((1 / n.shape[-1]) / (n / n.sum(-1, keepdim=True)))
        ).sum(-1),
        "forward KL(p || q)",
    ),
    "counts not normalised": (
        lambda n: torch.xlogy(n, n * n.shape[-1]).sum(-1),
        "divide the counts by their total",
    ),
    "no reference p": (
        lambda n: torch.xlogy(
            n / n.sum(-1, keepdim=True), n / n.sum(-1, keepdim=True)
        ).sum(-1),
        "p_k = 1/K",
    ),
    "q log q without xlogy": (
        lambda n: (
            (n / n.sum(-1, keepdim=True))
            * torch.log(n.shape[-1] * n / n.sum(-1, keepdim=True))
        ).sum(-1),
        "0 log 0 = 0",
    ),
    "log base 2": (lambda n: kl_right(n) / math.log(2), "log base 2"),
}


def test_reverse_kl_of_counts_matches_the_library_metric_and_closed_forms():
    ring = torch.tensor(
        [
            [2.0 * math.cos(k * math.pi / 4), 2.0 * math.sin(k * math.pi / 4)]
            for k in range(8)
        ]
    )
    counts = torch.tensor([5, 0, 7, 1, 0, 3, 9, 2])
    samples = ring.repeat_interleave(counts, 0) + 0.001
    assert (
        abs(
            reverse_kl_modes(samples, ring, std=0.02) - kl_right(counts.double()).item()
        )
        < 1e-9
    )
    assert (
        abs(
            kl_right(torch.tensor([10.0, 10.0, 0.0, 0.0], dtype=F64)).item()
            - math.log(2)
        )
        < 1e-12
    )  # j of K even: log(K / j)


# --- chapter 4: WGAN critic loss -------------------------------------------------------------------
def w_right(r, f):
    return f.mean() - r.mean()


W_WRONG = {
    "W1 estimate": (lambda r, f: r.mean() - f.mean(), "critic *maximises*"),
    "sigmoid": (
        lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean(),
        "not probabilities",
    ),
    "cross-entropy": (
        lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(),
        "GAN's cross-entropy",
    ),
    "pooled": (lambda r, f: torch.cat([-r.flatten(), f.flatten()]).mean(), "pooled"),
    "sum": (lambda r, f: f.sum() - r.sum(), "you sum over the batch"),
}


# --- chapter 5: LSGAN discriminator loss and cycle loss -------------------------------------------
def ls_right(r, f):
    return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean()


LS_WRONG = {
    "targets swapped": (
        lambda r, f: 0.5 * (r**2).mean() + 0.5 * ((f - 1) ** 2).mean(),
        "targets are swapped",
    ),
    "sigmoid": (
        lambda r, f: (
            0.5 * ((torch.sigmoid(r) - 1) ** 2).mean()
            + 0.5 * (torch.sigmoid(f) ** 2).mean()
        ),
        "no sigmoid",
    ),
    "generator target": (
        lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * ((f - 1) ** 2).mean(),
        "generator's target",
    ),
    "pooled": (
        lambda r, f: (
            0.5 * torch.cat([((r - 1) ** 2).flatten(), (f**2).flatten()]).mean()
        ),
        "pooled",
    ),
    "sum": (
        lambda r, f: 0.5 * ((r - 1) ** 2).sum() + 0.5 * (f**2).sum(),
        "you sum over the batch",
    ),
    "no 1/2": (
        lambda r, f: ((r - 1) ** 2).mean() + (f**2).mean(),
        "a factor 1/2 is missing",
    ),
}


def cyc_right(G, F_, x, y):
    return (F_(G(x)) - x).abs().mean() + (G(F_(y)) - y).abs().mean()


CYC_WRONG = {
    "L2": (
        lambda G, F_, x, y: ((F_(G(x)) - x) ** 2).mean() + ((G(F_(y)) - y) ** 2).mean(),
        "not a squared one",
    ),
    "one direction": (lambda G, F_, x, y: (F_(G(x)) - x).abs().mean(), "both cycles"),
    "order": (
        lambda G, F_, x, y: (G(F_(x)) - x).abs().mean() + (F_(G(y)) - y).abs().mean(),
        "order of the maps",
    ),
    "per-image sum": (
        lambda G, F_, x, y: (
            (F_(G(x)) - x).abs().sum((1, 2, 3)).mean()
            + (G(F_(y)) - y).abs().sum((1, 2, 3)).mean()
        ),
        "divides by the d pixels",
    ),
    "no round trip": (
        lambda G, F_, x, y: (G(x) - x).abs().mean() + (F_(y) - y).abs().mean(),
        "round trip",
    ),
}


# --- chapter 4: instance-noise schedule -----------------------------------------------------------
def noise_right(step, T, sigma0, kind):
    t = min(step, T) / T
    if kind == "constant":
        return sigma0
    return (
        sigma0 * (1 - t)
        if kind == "linear"
        else sigma0 * (1 + math.cos(math.pi * t)) / 2
    )


NOISE_WRONG = {
    "no clamp": (
        lambda step, T, s, kind: (
            s
            if kind == "constant"
            else (
                s * (1 - step / T)
                if kind == "linear"
                else s * (1 + math.cos(math.pi * step / T)) / 2
            )
        ),
        "clamp t at T",
    ),
    "reversed": (
        lambda step, T, s, kind: (
            s
            if kind == "constant"
            else (
                s * min(step / T, 1)
                if kind == "linear"
                else s * (1 - math.cos(math.pi * min(step / T, 1))) / 2
            )
        ),
        "reversed",
    ),
    "off by one": (
        lambda step, T, s, kind: noise_right(step + 1, T, s, kind),
        "off by one step",
    ),
    "bare cosine": (
        lambda step, T, s, kind: (
            s * math.cos(math.pi * min(step, T) / T)
            if kind == "cosine"
            else noise_right(step, T, s, kind)
        ),
        "(1 + cos(pi t / T)) / 2, from 1 to 0",
    ),
    "quarter cosine": (
        lambda step, T, s, kind: (
            s * math.cos(math.pi * min(step, T) / (2 * T))
            if kind == "cosine"
            else noise_right(step, T, s, kind)
        ),
        "quarter period",
    ),
}


CASES = {  # check -> (right answer, {mistake: (student-style wrong code, expected words in the message)})
    "check_mixture_log_density": (mix_right, MIXTURE_WRONG),
    "check_discriminator_loss": (d_right, D_WRONG),
    "check_reverse_kl_counts": (kl_right, KL_WRONG),
    "check_wgan_critic_loss": (w_right, W_WRONG),
    "check_lsgan_discriminator_loss": (ls_right, LS_WRONG),
    "check_cycle_loss": (cyc_right, CYC_WRONG),
    "check_instance_noise_schedule": (noise_right, NOISE_WRONG),
}


@pytest.mark.parametrize("name", CASES)
def test_right_answer_passes_and_stub_is_not_implemented(name):
    check = getattr(checks, name)
    result = check(CASES[name][0], verbose=False)
    assert result.passed, result.message

    def stub(*args):
        raise NotImplementedError

    assert not check(stub, verbose=False).passed
    assert check(stub, verbose=False).message.startswith("not implemented")


@pytest.mark.parametrize(
    "name,mistake", [(n, m) for n, (_, wrong) in CASES.items() for m in wrong]
)
def test_each_named_mistake_is_rejected_with_its_message(name, mistake):
    wrong, words = CASES[name][1][mistake]
    result = getattr(checks, name)(wrong, verbose=False)
    assert not result.passed
    assert words in result.message, result.message


def test_messages_name_the_misconception_not_the_answer():
    # no diagnosis of a loss check prints code the student could paste (a function call with its arguments)
    for name, (_, wrong) in CASES.items():
        for mistake, (fn, _) in wrong.items():
            message = getattr(checks, name)(fn, verbose=False).message
            assert (
                "logsumexp(" not in message
                and "logsigmoid(" not in message
                and ".mean()" not in message
            ), message
