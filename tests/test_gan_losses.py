"""GAN losses: hand-computed values, torch's BCE as the oracle, stability, and the saturation argument."""

import math

import pytest
import torch
import torch.nn.functional as F

from glo_teach.gan import (
    GAN_LOSSES,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    minimax_value,
    wgan_critic_loss,
    wgan_generator_loss,
)

LOG2 = math.log(2.0)


def _logits(n: int, seed: int, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, generator=g, dtype=torch.float64)).requires_grad_(
        True
    )


def test_losses_at_zero_logits():
    """Hand-computed at D = sigmoid(0) = 1/2: gan-d-loss = 2 log 2, gan-saturating = log(1/2) = -log 2,
    gan-nonsaturating = -log(1/2) = log 2."""
    z = torch.zeros(8)
    assert abs(discriminator_loss(z, z).item() - 2 * LOG2) < 1e-6
    assert abs(generator_loss_saturating(z).item() + LOG2) < 1e-6
    assert abs(generator_loss_nonsaturating(z).item() - LOG2) < 1e-6


def test_bce_losses_match_torch_values_and_gradients():
    """gan-d-loss = BCE(real, 1) + BCE(fake, 0); gan-nonsaturating = BCE(fake, 1); gan-saturating = -BCE(fake, 0).
    Values and gradients w.r.t. the logits equal torch's binary_cross_entropy_with_logits (float64)."""
    bce = F.binary_cross_entropy_with_logits
    cases = [
        (
            lambda r, f: discriminator_loss(r, f),
            lambda r, f: bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)),
        ),
        (
            lambda r, f: generator_loss_nonsaturating(f),
            lambda r, f: bce(f, torch.ones_like(f)) + 0 * r.sum(),
        ),
        (
            lambda r, f: generator_loss_saturating(f),
            lambda r, f: -bce(f, torch.zeros_like(f)) + 0 * r.sum(),
        ),
    ]
    for ours, oracle in cases:
        r, f = _logits(32, 0), _logits(40, 1)
        a = ours(r, f)
        ga = torch.autograd.grad(a, (r, f), allow_unused=True, materialize_grads=True)
        b = oracle(r, f)
        gb = torch.autograd.grad(b, (r, f), allow_unused=True, materialize_grads=True)
        assert abs(a.item() - b.item()) < 1e-12
        for x, y in zip(ga, gb):
            assert (x - y).abs().max().item() < 1e-12


def _closed_form_gradients(name, r, f):
    """Hand derivatives of each loss (N real, M fake logits): d/dl softplus(-l) = -(1 - sigmoid(l)),
    d/dl softplus(l) = sigmoid(l), d/dl 1/2 (l - t)^2 = l - t, d/dl relu(1 - l) = -[l < 1], each / N or / M."""
    N, M, sr, sf = len(r), len(f), torch.sigmoid(r), torch.sigmoid(f)
    ones_r, ones_f = torch.ones_like(r), torch.ones_like(f)
    d = {
        "minimax": ((-(1 - sr) / N, sf / M), -sf / M),
        "nonsaturating": ((-(1 - sr) / N, sf / M), -(1 - sf) / M),
        "lsgan": (((r - 1) / N, f / M), (f - 1) / M),
        "wgan": ((-ones_r / N, ones_f / M), -ones_f / M),
        "hinge": ((-(r < 1).double() / N, (f > -1).double() / M), -ones_f / M),
    }
    return d[name]


@pytest.mark.parametrize("name", sorted(GAN_LOSSES))
def test_loss_gradients_match_the_closed_form(name):
    """Each loss's autograd gradient w.r.t. its logits equals the hand derivative (e.g. the
    non-saturating G loss: d/dl of -log sigmoid(l) = -(1 - sigmoid(l)), divided by M); a wrong sign,
    a missing 1/2 or a swapped softplus argument changes the gradient, unlike a gradcheck of torch ops."""
    r, f = _logits(6, 2), _logits(5, 3)
    d_loss, g_loss = GAN_LOSSES[name]
    (dr_hand, df_hand), dg_hand = _closed_form_gradients(name, r.detach(), f.detach())
    dr, df = torch.autograd.grad(d_loss(r, f), (r, f))
    (dg,) = torch.autograd.grad(g_loss(f), (f,))
    torch.testing.assert_close(dr, dr_hand, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(df, df_hand, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(dg, dg_hand, rtol=1e-12, atol=1e-14)


def test_losses_stable_at_extreme_logits():
    """At logits +-100 every loss and its gradient is finite; the BCE losses have their exact limits
    (softplus(-100) ~ 3.7e-44, softplus(100) = 100)."""
    for v in (100.0, -100.0):
        r = torch.full((4,), v, requires_grad=True)
        f = torch.full((4,), -v, requires_grad=True)
        for d_loss, g_loss in GAN_LOSSES.values():
            for loss in (d_loss(r, f), g_loss(f)):
                grads = torch.autograd.grad(
                    loss, (r, f), allow_unused=True, materialize_grads=True
                )
                assert torch.isfinite(loss) and all(
                    torch.isfinite(g).all() for g in grads
                )
    big = torch.tensor([100.0])
    assert abs(discriminator_loss(big, -big).item()) < 1e-30
    assert abs(discriminator_loss(-big, big).item() - 200.0) < 1e-4
    assert abs(generator_loss_nonsaturating(-big).item() - 100.0) < 1e-4
    assert abs(generator_loss_saturating(-big).item()) < 1e-30


def test_discriminator_loss_is_minus_the_value():
    """gan-d-loss = -gan-value-empirical."""
    r, f = _logits(10, 4), _logits(12, 5)
    assert abs(discriminator_loss(r, f).item() + minimax_value(r, f).item()) < 1e-12


def test_nonsaturating_gradient_dominates_where_d_rejects_fakes():
    """gan-saturating-grad: at a fake logit l with D(G(z)) = sigmoid(l) ~ 0, d/dl log(1 - sigmoid(l)) =
    -sigmoid(l) vanishes while d/dl (-log sigmoid(l)) = -(1 - sigmoid(l)) ~ -1; their ratio is
    (1 - sigmoid(l)) / sigmoid(l) = e^{-l} exactly."""
    for l in (-3.0, -6.0, -10.0):
        fake = torch.tensor([l], dtype=torch.float64, requires_grad=True)
        (g_sat,) = torch.autograd.grad(generator_loss_saturating(fake), fake)
        (g_ns,) = torch.autograd.grad(generator_loss_nonsaturating(fake), fake)
        ratio = (g_ns / g_sat).item()
        assert abs(g_sat.item() + torch.sigmoid(torch.tensor(l)).item()) < 1e-7
        assert abs(ratio - math.exp(-l)) < 1e-9 * math.exp(-l), (
            f"ratio {ratio:.4g} vs e^-l = {math.exp(-l):.4g}"
        )
        assert ratio > 10, (
            f"at D(G(z)) = {torch.sigmoid(torch.tensor(l)).item():.2e} the ratio is only {ratio:.3g}"
        )


def test_lsgan_hand_values_and_optimal_discriminator():
    """lsgan-loss with targets a = 0, b = 1, c = 1: hand values, and the LSGAN optimal D on a
    two-point problem, D*(x) = (b p_data + a p_g) / (p_data + p_g), found by minimising the loss."""
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    assert (
        abs(lsgan_discriminator_loss(real, fake).item() - (0.5 * 0.5 + 0.5 * 2.0))
        < 1e-6
    )  # 1/2*mean(0,1)+1/2*mean(0,4)
    assert abs(lsgan_generator_loss(fake).item() - 0.5 * 1.0) < 1e-6  # 1/2 mean(1, 1)
    # x takes two values; p_data = (0.8, 0.2), p_g = (0.3, 0.7); minimise over the two scores D(x1), D(x2)
    p_data, p_g = torch.tensor([0.8, 0.2]), torch.tensor([0.3, 0.7])
    real_x, fake_x = (
        torch.tensor([0] * 8 + [1] * 2),
        torch.tensor([0] * 3 + [1] * 7),
    )  # exact empirical frequencies
    scores = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([scores], lr=1.0)
    for _ in range(
        100
    ):  # a quadratic with curvature ~1: lr 1 contracts the error ~10x per step
        loss = lsgan_discriminator_loss(scores[real_x], scores[fake_x])
        opt.zero_grad()
        loss.backward()
        opt.step()
    expected = p_data / (p_data + p_g)  # b = 1, a = 0
    assert (scores.detach() - expected).abs().max().item() < 1e-5


def test_wgan_and_hinge_hand_values():
    """wgan-critic: mean f(fake) - mean f(real); wgan-generator: -mean f(fake);
    gan-hinge: mean relu(1 - D(x)) + mean relu(1 + D(G(z))), G: -mean D(G(z))."""
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([0.0, -3.0])
    assert abs(wgan_critic_loss(real, fake).item() - (-1.5 - 0.5)) < 1e-6
    assert abs(wgan_generator_loss(fake).item() - 1.5) < 1e-6
    # relu(1 - [2, .5, -1]) = [0, .5, 2] -> mean 5/6; relu(1 + [0, -3]) = [1, 0] -> mean 1/2
    assert abs(hinge_discriminator_loss(real, fake).item() - (5 / 6 + 0.5)) < 1e-6
    assert abs(hinge_generator_loss(fake).item() - 1.5) < 1e-6


def test_gan_losses_mapping():
    """GAN_LOSSES names -> (D loss, G loss); minimax uses the saturating generator loss."""
    assert set(GAN_LOSSES) == {"minimax", "nonsaturating", "lsgan", "wgan", "hinge"}
    assert GAN_LOSSES["minimax"] == (discriminator_loss, generator_loss_saturating)
    assert GAN_LOSSES["nonsaturating"] == (
        discriminator_loss,
        generator_loss_nonsaturating,
    )
    assert GAN_LOSSES["wgan"] == (wgan_critic_loss, wgan_generator_loss)


def test_losses_accept_column_scores_and_reject_bad_shapes():
    """Scores (N,) and (N, 1) give the same loss; (N, 2) raises ValueError naming the expected shape."""
    r, f = _logits(6, 6).detach(), _logits(6, 7).detach()
    for d_loss, _ in GAN_LOSSES.values():
        assert abs(d_loss(r, f).item() - d_loss(r[:, None], f[:, None]).item()) < 1e-12
        with pytest.raises(ValueError, match=r"\(N, 1\)"):
            d_loss(r.reshape(3, 2), f)
