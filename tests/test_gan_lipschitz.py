"""Lipschitz tools and the Wasserstein distance (book chapter 4)."""

import math

import pytest
import scipy.stats
import torch
from torch import nn

from glo_teach.gan import (
    apply_spectral_norm,
    clip_weights_,
    gradient_penalty,
    js_divergence,
    js_parallel_lines,
    parallel_lines,
    power_iteration,
    sample_eps,
    spectral_norm,
    w1_1d,
    w1_parallel_lines,
    wgan_critic_loss,
)
from glo_teach.nets import DCGANDiscriminator


def test_clip_weights_matches_clamp():
    """wgan-clip: every parameter (weights and biases) becomes clamp(w, -c, c); oracle torch.clamp."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    for p in net.parameters():
        p.data.mul_(10)
    before = [p.detach().clone() for p in net.parameters()]
    assert clip_weights_(net, 0.05) is net
    for b, p in zip(before, net.parameters()):
        assert torch.equal(p.detach(), b.clamp(-0.05, 0.05))
    assert max(p.abs().max().item() for p in net.parameters()) == pytest.approx(
        0.05, abs=1e-9
    )


@pytest.mark.parametrize("shape", [(16, 2), (8, 1, 4, 4)])
def test_gradient_penalty_of_linear_critic_is_exact(shape):
    """wgan-gp: for f(x) = w . x + b the gradient is w everywhere, so GP = (||w|| - 1)^2 exactly
    (and ||w||^2 with center = 0), on vectors and on image-shaped inputs."""
    torch.manual_seed(0)
    d = math.prod(shape[1:])
    lin = nn.Linear(d, 1).double()
    critic = lambda x: lin(x.flatten(1))  # noqa: E731  (N, ...) -> (N, d) -> (N, 1)
    real, fake = (
        torch.randn(shape, dtype=torch.float64),
        torch.randn(shape, dtype=torch.float64),
    )
    w_norm = lin.weight.norm().item()
    assert abs(gradient_penalty(critic, real, fake).item() - (w_norm - 1) ** 2) < 1e-12
    assert (
        abs(gradient_penalty(critic, real, fake, center=0.0).item() - w_norm**2) < 1e-12
    )


def test_gradient_penalty_backpropagates_into_the_critic():
    """wgan-gp with create_graph=True: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||."""
    torch.manual_seed(1)
    lin = nn.Linear(3, 1).double()
    gp = gradient_penalty(
        lin,
        torch.randn(10, 3, dtype=torch.float64),
        torch.randn(10, 3, dtype=torch.float64),
    )
    (grad_w,) = torch.autograd.grad(gp, lin.weight)
    w = lin.weight.detach()
    assert (grad_w - 2 * (w.norm() - 1) * w / w.norm()).abs().max().item() < 1e-12


def _is_per_sample_interpolate_gp(gp: float, eps: torch.Tensor) -> bool:
    """For f(x) = x^2 / 2 with real = 1, fake = 0: x_hat_i = eps_i and ||grad f(x_hat_i)|| = eps_i,
    so a correct penalty is mean_i (eps_i - 1)^2 with the per-sample eps."""
    return abs(gp - ((eps - 1) ** 2).mean().item()) < 1e-12


def test_gradient_penalty_draws_one_eps_per_sample_at_interpolates():
    """wgan-gp-interpolate: eps_i ~ U[0, 1] differs across the batch and the gradient is taken at
    x_hat_i. A critic whose gradient norm depends on the position, f(x) = x^2 / 2, tells a correct
    implementation from one that draws one eps per batch or penalises at the real points."""
    critic = lambda x: 0.5 * (x**2).sum(1)  # noqa: E731  grad = x, so ||grad|| = |x_hat|
    n = 256
    real, fake = (
        torch.ones(n, 1, dtype=torch.float64),
        torch.zeros(n, 1, dtype=torch.float64),
    )
    eps = torch.rand(
        (n, 1), generator=torch.Generator().manual_seed(7), dtype=torch.float64
    )  # documented draw
    assert (
        eps.std().item() > 0.2
    )  # U[0, 1] has std 0.29: the eps differ across the batch
    assert torch.equal(sample_eps(real, torch.Generator().manual_seed(7)), eps)
    gp = gradient_penalty(
        critic, real, fake, generator=torch.Generator().manual_seed(7)
    ).item()
    assert _is_per_sample_interpolate_gp(gp, eps), gp
    # the same check rejects the two classic bugs
    per_batch = gradient_penalty(
        critic, real, fake, eps=eps[:1].expand(n, 1)
    ).item()  # one eps for all
    at_real = gradient_penalty(critic, real, real).item()  # gradient at the real points
    assert not _is_per_sample_interpolate_gp(per_batch, eps)
    assert not _is_per_sample_interpolate_gp(at_real, eps)


def test_sample_eps_shape():
    """One eps per sample, broadcastable against images: (N, 1, 1, 1), in [0, 1)."""
    eps = sample_eps(torch.zeros(5, 3, 8, 8))
    assert eps.shape == (5, 1, 1, 1) and (eps >= 0).all() and (eps < 1).all()


@pytest.mark.parametrize("shape", [(20, 30), (16, 8, 3, 3), (7, 7)])
def test_power_iteration_matches_matrix_norm(shape):
    """sn-power-iteration: sigma converges to the spectral norm torch.linalg.matrix_norm(W, 2) of W
    reshaped to (out, -1) (to 1e-4), (u, v) are the top singular pair (W v = sigma u), and with few
    iterations sigma = u^T W v is a lower bound."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(shape, generator=g, dtype=torch.float64)
    oracle = torch.linalg.matrix_norm(W.reshape(shape[0], -1), 2).item()
    sigma, u, v = power_iteration(W, 500, generator=g)
    assert abs(sigma.item() - oracle) < 1e-4 * oracle
    assert (W.reshape(shape[0], -1) @ v - sigma * u).norm().item() < 1e-3 * oracle
    sigma_1, _, _ = power_iteration(W, 1, generator=g)
    assert 0 < sigma_1.item() <= oracle + 1e-12


def test_spectral_norm_layers_have_unit_sigma():
    """sn-weight: after some training-mode forwards, W / sigma(W) has spectral norm 1 (to 1e-3), for
    Linear, Conv2d (W as (out, in*k*k)) and ConvTranspose2d (output channels are dim 1)."""
    torch.manual_seed(0)
    layers = [
        (nn.Linear(20, 10), (4, 20)),
        (nn.Conv2d(3, 8, 3), (2, 3, 8, 8)),
        (nn.ConvTranspose2d(6, 4, 4, 2, 1), (2, 6, 5, 5)),
    ]
    for layer, x_shape in layers:
        spectral_norm(layer)
        x = torch.randn(x_shape)
        for _ in range(50):  # 50 power-iteration steps, one per forward
            layer(x)
        W = layer.weight.detach()
        W = (
            W.movedim(1, 0) if isinstance(layer, nn.ConvTranspose2d) else W
        )  # output channels first
        W_mat = W.reshape(W.shape[0], -1)  # (out, in*k*k)
        assert abs(torch.linalg.matrix_norm(W_mat, 2).item() - 1.0) < 1e-3, type(
            layer
        ).__name__


def test_spectral_norm_matches_torch_parametrization():
    """sn-weight: given the same (u, v), our layer and torch.nn.utils.parametrizations.spectral_norm give
    the same outputs through training steps (weights changing) and in eval mode, and eval does not
    move u."""
    torch.manual_seed(0)
    for make, x in [
        (lambda: nn.Linear(12, 6), torch.randn(5, 12)),
        (lambda: nn.Conv2d(2, 4, 3), torch.randn(3, 2, 6, 6)),
        (lambda: nn.ConvTranspose2d(4, 2, 4, 2, 1), torch.randn(3, 4, 3, 3)),
    ]:
        ours, ref = make(), make()
        ref.load_state_dict(ours.state_dict())
        spectral_norm(ours)
        torch.nn.utils.parametrizations.spectral_norm(ref)
        ours.parametrizations.weight[0].u.copy_(ref.parametrizations.weight[0]._u)
        ours.parametrizations.weight[0].v.copy_(ref.parametrizations.weight[0]._v)
        opt_ours, opt_ref = (
            torch.optim.SGD(ours.parameters(), lr=0.1),
            torch.optim.SGD(ref.parameters(), lr=0.1),
        )
        for _ in range(4):
            y_ours, y_ref = ours(x), ref(x)
            assert (y_ours - y_ref).abs().max().item() < 1e-5
            for y, opt in ((y_ours, opt_ours), (y_ref, opt_ref)):
                opt.zero_grad()
                (y**2).mean().backward()
                opt.step()
        ours.eval()
        ref.eval()
        u_before = ours.parametrizations.weight[0].u.clone()
        assert (ours(x) - ref(x)).abs().max().item() < 1e-5
        assert torch.equal(ours.parametrizations.weight[0].u, u_before)
        assert ours.parametrizations.weight[0].u.grad is None


def test_spectral_norm_backprop_treats_u_v_as_constants():
    """sn-weight: sigma = u^T W v with the stored power-iteration vectors held constant, so
    d sigma / d W = u v^T and, for L = <G, W / sigma>, dL/dW = G / sigma - (<G, W> / sigma^2) u v^T (hand formula);
    backward and an optimiser step leave u and v where the forward's power iteration put them."""
    torch.manual_seed(0)
    layer = spectral_norm(nn.Linear(12, 6))
    sn = layer.parametrizations.weight[0]
    W_sn = layer.weight  # training mode: one power-iteration step, then W / sigma
    u, v = sn.u.clone(), sn.v.clone()
    W = layer.parametrizations.weight.original
    G = torch.randn(6, 12, generator=torch.Generator().manual_seed(1))
    (W_sn * G).sum().backward()
    with torch.no_grad():
        sigma = u @ W @ v
        expected = G / sigma - (G * W).sum() / sigma**2 * torch.outer(u, v)
    torch.testing.assert_close(W.grad, expected, rtol=1e-5, atol=1e-6)
    torch.optim.SGD(layer.parameters(), lr=0.1).step()
    assert torch.equal(sn.u, u) and torch.equal(sn.v, v)


def test_apply_spectral_norm_on_a_dcgan_critic():
    """sn-weight on every Conv/Linear of a network: each weight ends with sigma ~ 1 and the state
    dict carries u and v buffers (so checkpoints resume the power iteration)."""
    torch.manual_seed(0)
    net = apply_spectral_norm(
        DCGANDiscriminator(channels=1, size=32, width=8, norm="none")
    )
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(hasattr(m, "parametrizations") for m in convs)
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    for _ in range(30):
        net(x)
    for m in convs:
        assert (
            abs(
                torch.linalg.matrix_norm(
                    m.weight.detach().reshape(m.weight.shape[0], -1), 2
                ).item()
                - 1
            )
            < 2e-3
        )
    assert sum(k.endswith(".u") for k in net.state_dict()) == 4


def test_wgan_gp_critic_estimates_w1_of_two_gaussians(one_thread):
    """wgan-kr-duality + wgan-gp: a critic trained with wgan-critic + lambda * GP on N(0, 1) vs N(2, 1)
    estimates W1 = |mu1 - mu2| = 2 by mean f(x) - mean f(y). The GP optimum of a linear critic has
    slope 1 + W1 / (2 lambda) = 1.02 for lambda = 50, so the tolerance is 0.12 against
    scipy.stats.wasserstein_distance of the same samples (itself within 0.03 of 2)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    mu1, mu2 = 0.0, 2.0
    f = nn.Sequential(
        nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
    )  # (N,1) -> (N,1)
    opt = torch.optim.Adam(f.parameters(), lr=2e-3, betas=(0.5, 0.9))
    for _ in range(500):
        x, y = (
            mu1 + torch.randn(256, 1, generator=g),
            mu2 + torch.randn(256, 1, generator=g),
        )
        loss = wgan_critic_loss(f(x), f(y)) + 50.0 * gradient_penalty(
            f, x, y, generator=g
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = (
        mu1 + torch.randn(20_000, 1, generator=g),
        mu2 + torch.randn(20_000, 1, generator=g),
    )
    with torch.no_grad():
        w1_critic = (f(x).mean() - f(y).mean()).abs().item()
    w1_scipy = scipy.stats.wasserstein_distance(x[:, 0].numpy(), y[:, 0].numpy())
    assert abs(w1_scipy - abs(mu1 - mu2)) < 0.03
    assert abs(w1_critic - w1_scipy) < 0.12, (
        f"critic {w1_critic:.4f}, scipy {w1_scipy:.4f}"
    )


def test_w1_1d_matches_scipy():
    """wgan-w1-1d: the area between the empirical CDFs equals scipy.stats.wasserstein_distance, for
    equal and unequal sample sizes; for equal sizes it is mean |a_(i) - b_(i)|."""
    g = torch.Generator().manual_seed(0)
    for n, m in [(100, 100), (37, 250), (1, 5)]:
        a, b = (
            torch.randn(n, generator=g, dtype=torch.float64),
            0.5 + 2 * torch.rand(m, generator=g, dtype=torch.float64),
        )
        assert (
            abs(
                w1_1d(a, b).item()
                - scipy.stats.wasserstein_distance(a.numpy(), b.numpy())
            )
            < 1e-12
        )
    a, b = (
        torch.randn(50, generator=g, dtype=torch.float64),
        torch.randn(50, generator=g, dtype=torch.float64),
    )
    assert (
        abs(
            w1_1d(a, b).item() - (a.sort().values - b.sort().values).abs().mean().item()
        )
        < 1e-12
    )


def test_parallel_lines_js_saturates_while_w1_shrinks():
    """wgan-parallel-lines: JS(P_0, P_theta) = log 2 for every theta != 0 while W1 = |theta| -> 0.
    Oracles: JS of the histograms of the first coordinate (disjoint bins); for W1 the coupling
    (0, z) -> (theta, z) costs |theta| (upper bound) and the 1-Lipschitz f(x) = sign(theta) x_1 scores
    E_{P_theta} f - E_{P_0} f = |theta| (Kantorovich-Rubinstein lower bound), and scipy's W1 of the
    first coordinates agrees."""
    g = torch.Generator().manual_seed(0)
    for theta in [1.0, 0.3, 0.01, -0.5]:
        p0, pt = parallel_lines(0.0, 1000, g), parallel_lines(theta, 1000, g)
        values = torch.tensor([0.0, theta])
        hist = lambda s: (s[:, :1] == values).double().mean(0)  # noqa: E731  (n, 1) == (2,) -> (n, 2) -> (2,)
        assert abs(js_divergence(hist(p0), hist(pt)).item() - math.log(2)) < 1e-12
        assert js_parallel_lines(theta) == math.log(2)
        coupling = (
            (pt - torch.stack([torch.zeros(1000), pt[:, 1]], 1))
            .norm(dim=1)
            .mean()
            .item()
        )  # ||(theta,z)-(0,z)||
        f = lambda s: math.copysign(1.0, theta) * s[:, 0]  # noqa: E731  1-Lipschitz witness
        dual = (f(pt).mean() - f(p0).mean()).item()
        w1 = w1_parallel_lines(theta)
        assert abs(coupling - w1) < 1e-6 and abs(dual - w1) < 1e-6
        assert (
            abs(
                scipy.stats.wasserstein_distance(p0[:, 0].numpy(), pt[:, 0].numpy())
                - w1
            )
            < 1e-6
        )
    assert js_parallel_lines(0.0) == 0.0 and w1_parallel_lines(0.0) == 0.0


def _dense_conv_matrix(op, input_shape):
    """The oracle: the matrix of a linear map, column j = op(e_j) for the identity basis e_j."""
    n = math.prod(input_shape)
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *input_shape)
    return op(basis).reshape(n, -1).T  # (out_dim, n)


@pytest.mark.parametrize(
    "stride,padding,transposed",
    [(1, 0, False), (1, 1, False), (2, 1, False), (2, 1, True), (1, 0, True)],
)
def test_conv_operator_norm_matches_the_dense_matrix(stride, padding, transposed):
    """conv_operator_norm = ||A||_2 of the dense matrix of the convolution, and differs from the
    reshaped-weight sigma (which is the quantity spectral normalisation divides by)."""
    from glo_teach.gan import conv_operator_norm

    g = torch.Generator().manual_seed(0)
    c_in, c_out = 2, 3
    weight = torch.randn(
        c_in if transposed else c_out,
        c_out if transposed else c_in,
        3,
        3,
        generator=g,
        dtype=torch.float64,
    )
    shape = (c_in, 6, 6)
    if transposed:
        op = lambda x: torch.nn.functional.conv_transpose2d(
            x, weight, stride=stride, padding=padding
        )  # noqa: E731
    else:
        op = lambda x: torch.nn.functional.conv2d(
            x, weight, stride=stride, padding=padding
        )  # noqa: E731
    dense = _dense_conv_matrix(op, shape)
    expected = torch.linalg.matrix_norm(dense, ord=2).item()
    got = conv_operator_norm(
        weight,
        shape,
        stride=stride,
        padding=padding,
        transposed=transposed,
        iters=500,
        generator=g,
    ).item()
    assert abs(got - expected) < 1e-6 * expected, (got, expected)


def test_conv_operator_norm_all_ones_kernel_is_the_dc_gain_not_k():
    """All-ones 3x3 kernel, one channel, padding 1 on n x n: A = T (x) T with T the n x n tridiagonal
    all-ones matrix, so ||A||_2 = (1 + 2 cos(pi / (n + 1)))^2 -> k^2 = 9, while the reshaped sigma is k = 3."""
    from glo_teach.gan import conv_operator_norm

    weight = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    assert (
        abs(torch.linalg.matrix_norm(weight.reshape(1, -1), ord=2).item() - 3.0) < 1e-12
    )
    for n in (8, 24):
        closed = (1 + 2 * math.cos(math.pi / (n + 1))) ** 2
        got = conv_operator_norm(
            weight,
            (1, n, n),
            padding=1,
            iters=3000,
            generator=torch.Generator().manual_seed(0),
        ).item()
        assert abs(got - closed) < 1e-6 * closed, (n, got, closed)
    assert closed > 8.8
