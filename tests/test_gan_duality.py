"""Kantorovich-Rubinstein duality as two linear programs (book chapter 4, wgan-kr-lp)."""

import pytest
import scipy.stats
import torch

from glo_teach.gan import kr_duality, lipschitz_on


def _random_problem(seed, n, m, d):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(m, d, generator=g, dtype=torch.float64) + 1.0
    p, q = (
        torch.rand(n, generator=g, dtype=torch.float64),
        torch.rand(m, generator=g, dtype=torch.float64),
    )
    return x, p / p.sum(), y, q / q.sum()


def test_hand_computed_1d_case():
    """P = (delta_0 + delta_1)/2, Q = (delta_0.5 + delta_3)/2: the monotone coupling 0 -> 0.5, 1 -> 3
    costs 0.5 * 0.5 + 0.5 * 2 = 1.25 (= area between the CDFs); primal and dual both give it."""
    half = torch.tensor([0.5, 0.5])
    r = kr_duality(torch.tensor([0.0, 1.0]), half, torch.tensor([0.5, 3.0]), half)
    assert r.primal == pytest.approx(1.25, abs=1e-9)
    assert r.dual == pytest.approx(1.25, abs=1e-9)
    assert torch.allclose(
        r.plan, torch.tensor([[0.5, 0.0], [0.0, 0.5]], dtype=torch.float64), atol=1e-9
    )


def test_hand_computed_2d_case():
    """P = delta_(0,0), Q = (delta_(3,4) + delta_(0,1))/2: everything moves from the origin,
    W1 = 0.5 * 5 + 0.5 * 1 = 3 (Euclidean, not squared, distances)."""
    r = kr_duality(
        torch.tensor([[0.0, 0.0]]),
        torch.tensor([1.0]),
        torch.tensor([[3.0, 4.0], [0.0, 1.0]]),
        torch.tensor([0.5, 0.5]),
    )
    assert r.primal == pytest.approx(3.0, abs=1e-9) and r.dual == pytest.approx(
        3.0, abs=1e-9
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_1d_both_lps_match_scipy_wasserstein_distance(seed):
    """wgan-kr-lp in 1-D: primal = dual = scipy.stats.wasserstein_distance with the same weights."""
    x, p, y, q = _random_problem(seed, 9, 13, 1)
    r = kr_duality(x[:, 0], p, y[:, 0], q)
    ref = scipy.stats.wasserstein_distance(
        x[:, 0].numpy(), y[:, 0].numpy(), p.numpy(), q.numpy()
    )
    assert r.primal == pytest.approx(ref, abs=1e-8)
    assert r.dual == pytest.approx(ref, abs=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_2d_strong_duality_and_certificates(seed):
    """In 2-D (no closed form): primal = dual; the plan is a coupling whose cost is the primal value;
    the potential is 1-Lipschitz on the support and scores the dual value; complementary slackness:
    wherever the plan moves mass from x_i to y_j, f(x_i) - f(y_j) = ||x_i - y_j||."""
    x, p, y, q = _random_problem(seed, 7, 9, 2)
    r = kr_duality(x, p, y, q)
    assert r.primal == pytest.approx(r.dual, abs=1e-8)
    cost = torch.cdist(x, y)
    assert torch.allclose(r.plan.sum(1), p, atol=1e-9) and torch.allclose(
        r.plan.sum(0), q, atol=1e-9
    )
    assert (r.plan >= 0).all()
    assert (r.plan * cost).sum().item() == pytest.approx(r.primal, abs=1e-9)
    f = r.potential
    assert (p @ f[:7] - q @ f[7:]).item() == pytest.approx(r.dual, abs=1e-9)
    assert lipschitz_on(torch.cat([x, y]), f) <= 1 + 1e-8
    moved = r.plan > 1e-9
    gap = (f[:7, None] - f[None, 7:] - cost)[moved]
    assert gap.abs().max().item() < 1e-8


def test_lipschitz_on_hand_case_and_the_lower_bound():
    """lipschitz_on: f = 3 x on 1-D points has constant 3; f(0, 1, 2) = (0, 1, 3) has slopes 1, 2, 1.5,
    so 2 (the max, not the mean); f(0,0) = 0, f(3,4) = 10 has 10/5 = 2. Any f divided by its
    constant on the support is dual-feasible, so (E_P f - E_Q f) / L <= W1, with equality for the
    optimal potential (after any positive rescaling)."""
    assert lipschitz_on(
        torch.tensor([0.0, 1.0, 2.5]), torch.tensor([0.0, 3.0, 7.5])
    ) == pytest.approx(3.0)
    assert lipschitz_on(
        torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.0, 1.0, 3.0])
    ) == pytest.approx(2.0)
    assert lipschitz_on(
        torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([0.0, 10.0])
    ) == pytest.approx(2.0)
    x, p, y, q = _random_problem(3, 6, 5, 2)
    r = kr_duality(x, p, y, q)
    w1, u = r.primal, torch.cat([x, y])
    f_opt = 2.5 * r.potential
    assert (p @ f_opt[:6] - q @ f_opt[6:]).item() / lipschitz_on(
        u, f_opt
    ) == pytest.approx(w1, abs=1e-8)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        f = torch.randn(11, generator=g, dtype=torch.float64)
        est = (p @ f[:6] - q @ f[6:]).item() / lipschitz_on(torch.cat([x, y]), f)
        assert est <= w1 + 1e-9


def test_bad_input_is_rejected():
    one = torch.tensor([1.0])
    with pytest.raises(ValueError, match="sum to 1"):
        kr_duality(
            torch.tensor([0.0, 1.0]), torch.tensor([0.5, 0.6]), torch.tensor([2.0]), one
        )
    with pytest.raises(ValueError, match="one weight per point"):
        kr_duality(torch.tensor([0.0, 1.0]), one, torch.tensor([2.0]), one)
    with pytest.raises(ValueError, match="same dimension"):
        kr_duality(torch.zeros(2, 2), torch.tensor([0.5, 0.5]), torch.zeros(1, 3), one)
    with pytest.raises(TypeError, match="floating-point"):
        kr_duality(
            torch.tensor([0, 1]), torch.tensor([0.5, 0.5]), torch.tensor([2.0]), one
        )
    with pytest.raises(ValueError, match="distinct"):
        lipschitz_on(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]))
