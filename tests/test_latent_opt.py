"""latent_optimise (LOGAN): the GD/NGD steps, the mask, clipping, k steps, second-order gradients, train_gan."""

import math

import pytest
import torch
from torch import nn

from glo_teach.data import ring_of_gaussians
from glo_teach.gan import (
    MLPDiscriminator,
    MLPGenerator,
    latent_optimise,
    latent_regulariser,
    sample_prior,
    train_gan,
)
from glo_teach.metrics import high_quality_fraction


class _Linear(nn.Module):
    """x = z W^T (no bias) or, with out=1, a score f = x . v, shape (N,)."""

    def __init__(self, weight: torch.Tensor, score: bool = False):
        super().__init__()
        self.weight, self.score = nn.Parameter(weight.clone()), score

    def forward(self, x):
        y = x @ self.weight.T  # (N, n_in) -> (N, n_out)
        return y.reshape(-1) if self.score else y  # (N, 1) -> (N,)


def _linear_nets(seed=0, d=3, n_x=4):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n_x, d, generator=g, dtype=torch.float64)  # G(z) = W z
    v = torch.randn(1, n_x, generator=g, dtype=torch.float64)  # D(x) = v . x
    return _Linear(W), _Linear(v, score=True), W, v[0]


def test_gd_and_ngd_steps_hand_case():
    """Linear G, D: f(z) = v^T W z, so g = W^T v for every z. Eq. logan-gd: dz = alpha g;
    eq. logan-ngd: dz = alpha g / (beta + ||g||^2), compared with the closed form."""
    G, D, W, v = _linear_nets()
    z = torch.full((2, 3), 0.1, dtype=torch.float64)
    g = W.T @ v  # (3,)
    _, dz = latent_optimise(z, G, D, method="gd", alpha=0.05, prior="normal")
    assert torch.allclose(dz, (0.05 * g).expand(2, 3), atol=1e-12, rtol=0)
    _, dz = latent_optimise(z, G, D, method="ngd", alpha=0.9, beta=5.0, prior="normal")
    assert torch.allclose(
        dz, (0.9 * g / (5.0 + g @ g)).expand(2, 3), atol=1e-12, rtol=0
    )


def test_ngd_step_numbers():
    """Eq. logan-ngd by hand: g = (3, 4), ||g||^2 = 25, alpha 0.9, beta 5 -> dz = 0.9 (3, 4) / 30 = (0.09, 0.12)."""
    G = _Linear(torch.eye(2, dtype=torch.float64))
    D = _Linear(torch.tensor([[3.0, 4.0]], dtype=torch.float64), score=True)
    z = torch.zeros(1, 2, dtype=torch.float64)
    z_new, dz = latent_optimise(z, G, D, method="ngd", alpha=0.9, beta=5.0)
    assert torch.allclose(
        dz, torch.tensor([[0.09, 0.12]], dtype=torch.float64), atol=1e-12, rtol=0
    )
    assert torch.allclose(z_new, z + dz, atol=0, rtol=0)


def test_fraction_mask_moves_exactly_the_chosen_coordinates():
    """fraction = 0.5 of d = 8: exactly 4 coordinates of each sample move (g has no zero entry), the other 4
    are bitwise untouched, and the chosen set differs between samples."""
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=8, hidden=16), MLPDiscriminator(hidden=16)
    z = sample_prior(64, 8, "uniform", generator=torch.Generator().manual_seed(0)) * 0.5
    z_new, dz = latent_optimise(
        z,
        G,
        D,
        fraction=0.5,
        alpha=0.01,
        generator_rng=torch.Generator().manual_seed(1),
    )
    moved = dz != 0
    assert (moved.sum(dim=1) == 4).all()
    assert torch.equal(z_new[~moved], z[~moved])
    assert len({tuple(r.tolist()) for r in moved}) > 1


def test_uniform_prior_clips_to_the_cube():
    """A huge step (alpha = 100) leaves z' in [-1, 1] under the uniform prior, and lands on the faces;
    the normal prior does not clip. dz = z' - z in both cases."""
    G, D, W, v = _linear_nets()
    z = torch.zeros(5, 3, dtype=torch.float64)
    z_new, dz = latent_optimise(z, G, D, alpha=100.0, prior="uniform")
    assert z_new.abs().max().item() == 1.0 and torch.equal(dz, z_new - z)
    assert torch.equal(z_new, torch.sign(W.T @ v).expand(5, 3))
    z_new, _ = latent_optimise(z, G, D, alpha=100.0, prior="normal")
    assert abs(z_new.abs().max().item() - 100 * (W.T @ v).abs().max().item()) < 1e-9


@pytest.mark.parametrize("method", ["gd", "ngd"])
def test_k_steps_are_k_successive_steps(method):
    """steps = 3 equals three calls with steps = 1 (each at the new point) and differs from one step:
    the loop must not return after its first step."""
    torch.manual_seed(0)
    G, D = MLPGenerator(latent_dim=4, hidden=16), MLPDiscriminator(hidden=16)
    z = sample_prior(32, 4, "uniform", generator=torch.Generator().manual_seed(0)) * 0.5
    kw = dict(method=method, alpha=0.5, beta=0.1, create_graph=False)
    z3, dz3 = latent_optimise(z, G, D, steps=3, **kw)
    z_seq = z
    for _ in range(3):
        z_seq, _ = latent_optimise(z_seq, G, D, steps=1, **kw)
    z1, _ = latent_optimise(z, G, D, steps=1, **kw)
    assert (z3 - z_seq).abs().max().item() < 1e-6
    assert torch.allclose(dz3, z_seq - z, atol=1e-6, rtol=0)
    assert (z3 - z1).abs().max().item() > 1e-4
    z0, dz0 = latent_optimise(z, G, D, steps=0, **kw)
    assert torch.equal(z0, z) and not dz0.any()


@pytest.mark.parametrize("method", ["gd", "ngd"])
def test_second_order_gradient_closed_form(method):
    """Linear G(z) = W z, D(x) = v . x, L = mean_i D(G(z'_i)) with z' = z + dz(v), g = W^T v, s = ||g||^2.
    create_graph=True: dL/dv = W zbar + alpha * c(s) W W^T v with c = 2 (gd) or 2 beta / (beta + s)^2 (ngd)
    (eqs. logan-gd, logan-ngd differentiated through dz); create_graph=False: dL/dv = W zbar', the first-order
    term only. The two differ by the term through dz."""
    G, D, W, v = _linear_nets(seed=1)
    z = (
        torch.randn(
            6, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64
        )
        * 0.1
    )
    alpha, beta = 0.3, 2.0
    grads = {}
    for cg in (True, False):
        D.weight.grad = None
        z_new, _ = latent_optimise(
            z,
            G,
            D,
            method=method,
            alpha=alpha,
            beta=beta,
            prior="normal",
            create_graph=cg,
        )
        D(G(z_new)).mean().backward()
        grads[cg] = D.weight.grad[0].clone()
    g = W.T @ v
    s = g @ g
    c = 2.0 if method == "gd" else 2 * beta / (beta + s) ** 2
    dz = alpha * g if method == "gd" else alpha * g / (beta + s)
    first_order = W @ (z.mean(0) + dz)
    assert torch.allclose(grads[False], first_order, atol=1e-10, rtol=0)
    expected = W @ z.mean(0) + alpha * c * (W @ W.T @ v)
    assert torch.allclose(grads[True], expected, atol=1e-10, rtol=0)
    assert (grads[True] - grads[False]).abs().max().item() > 1e-3


def test_second_order_gradient_finite_differences():
    """On small MLPs in float64, d/dtheta_D of L(theta_D) = mean D(G(z'(theta_D))) (z' from one NGD step,
    create_graph=True) matches central finite differences of L in a random direction of theta_D."""
    torch.manual_seed(0)
    G, D = (
        MLPGenerator(latent_dim=3, hidden=8, depth=2).double(),
        MLPDiscriminator(hidden=8, depth=2).double(),
    )
    z = (
        sample_prior(
            16, 3, "uniform", generator=torch.Generator().manual_seed(0)
        ).double()
        * 0.5
    )
    params = list(D.parameters())

    def loss():
        z_new, _ = latent_optimise(
            z, G, D, method="ngd", alpha=0.9, beta=0.5, prior="normal"
        )
        return D(G(z_new)).mean()

    grads = torch.autograd.grad(loss(), params)
    direction = [torch.randn_like(p) for p in params]
    analytic = sum((gr * u).sum() for gr, u in zip(grads, direction)).item()
    eps = 1e-6
    with torch.no_grad():
        for p, u in zip(params, direction):
            p.add_(eps * u)
    up = loss().item()
    with torch.no_grad():
        for p, u in zip(params, direction):
            p.sub_(2 * eps * u)
    down = loss().item()
    assert abs((up - down) / (2 * eps) - analytic) < 1e-6 * max(1.0, abs(analytic))


def test_regulariser_is_mean_squared_norm():
    """Eq. logan-rz: R_z = (1/N) sum_i ||dz_i||^2; (3,4) and (0,0) give 25/2."""
    dz = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert abs(latent_regulariser(dz).item() - 12.5) < 1e-6


def test_bad_inputs():
    G, D, _, _ = _linear_nets()
    z = torch.zeros(2, 3, dtype=torch.float64)
    for kw in (
        dict(method="adam"),
        dict(fraction=0.0),
        dict(prior="cauchy"),
        dict(steps=-1),
        dict(method="ngd", beta=0.0),
        dict(alpha=float("nan")),
    ):
        with pytest.raises(ValueError):
            latent_optimise(z, G, D, **kw)
    with pytest.raises(ValueError, match="shape"):
        latent_optimise(torch.zeros(3), G, D)
    with pytest.raises(TypeError):
        latent_optimise([[0.0]], G, D)


RING = ring_of_gaussians()


def test_train_gan_with_latent_optimisation_on_the_ring(tmp_path):
    """Baseline, GD and NGD latent optimisation through train_gan on the ring (uniform prior, R_z on):
    finite losses, an R_z history, samples within a bounded box and some of them near the modes; and a
    crashed-and-resumed NGD run with a 50% mask ends bitwise equal to an uninterrupted one."""
    samples = {}
    for name, lo in (
        ("base", None),
        ("gd", dict(method="gd", alpha=0.1, rz_weight=1.0)),
        ("ngd", dict(method="ngd", alpha=0.9, beta=1.0, rz_weight=1.0)),
    ):
        torch.manual_seed(0)
        G, D = MLPGenerator(hidden=32), MLPDiscriminator(hidden=32)
        h = train_gan(
            G,
            D,
            RING.sample,
            steps=150,
            batch_size=64,
            lr_g=1e-3,
            lr_d=1e-3,
            prior="uniform",
            latent_optimisation=lo,
            device="cpu",
            seed=0,
        )
        assert all(
            math.isfinite(v) for v in h["d_loss"] + h["g_loss"] + h.get("rz", [])
        )
        assert ("rz" in h) == (lo is not None)
        with torch.no_grad():
            samples[name] = G(
                sample_prior(
                    500, 2, "uniform", generator=torch.Generator().manual_seed(1)
                )
            )
        assert samples[name].abs().max().item() < 10
        assert high_quality_fraction(samples[name], RING.centers, 0.25) > 0.05
    assert (
        max(
            samples["gd"].sub(samples["base"]).abs().max().item(),
            samples["ngd"].sub(samples["base"]).abs().max().item(),
        )
        > 1e-3
    )

    kw = dict(
        steps=6,
        batch_size=16,
        prior="uniform",
        device="cpu",
        seed=2,
        checkpoint_every=3,
        latent_optimisation=dict(method="ngd", steps=2, fraction=0.5, rz_weight=3.0),
    )
    torch.manual_seed(1)
    G1, D1 = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    h1 = train_gan(G1, D1, RING.sample, **kw)

    def crash(step, G, D):
        if step == 4:
            raise KeyboardInterrupt

    torch.manual_seed(1)
    G2, D2 = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    with pytest.raises(KeyboardInterrupt):
        train_gan(G2, D2, RING.sample, checkpoint_dir=tmp_path, callback=crash, **kw)
    torch.manual_seed(7)
    G3, D3 = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    h3 = train_gan(G3, D3, RING.sample, checkpoint_dir=tmp_path, **kw)
    for a, b in ((G1, G3), (D1, D3)):
        for k, t in a.state_dict().items():
            assert torch.equal(t, b.state_dict()[k]), k
    assert h1["rz"] == h3["rz"] and h1["d_loss"] == h3["d_loss"]


def test_train_gan_latent_optimisation_bad_keys():
    G, D = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    with pytest.raises(ValueError, match="unknown"):
        train_gan(
            G, D, RING.sample, steps=1, latent_optimisation=dict(lr=1.0), device="cpu"
        )
    with pytest.raises(ValueError, match="prior"):
        train_gan(G, D, RING.sample, steps=1, prior="laplace", device="cpu")


def test_train_gan_adds_rz_to_the_discriminator_loss_with_a_plus_sign():
    """eq. logan-rz: D's first update minimises L_D' = L_D + w R_z, not L_D - w R_z nor L_D alone. Oracle: the
    same z (the seeded global RNG; constant real data draws nothing), L_D' differentiated by autograd
    through latent_optimise, and Adam's first step, theta_1 = theta_0 - lr g / (|g| + eps) per coordinate
    (only signs of g matter). Settings where the three candidate gradients differ in sign: w = 100 makes
    R_z dominate (the wrong sign moves every coordinate the other way), and real data x = (3, 3) makes
    L_D's own gradient disagree with R_z's in the first coordinate (R_z dropped is caught too)."""
    from glo_teach.gan.losses import discriminator_loss
    from glo_teach.seed import seed_everything

    W0 = torch.tensor([[0.8, -0.3, 0.5], [0.2, 0.9, -0.4]])  # G(z) = W z, (3,) -> (2,)
    v0 = torch.tensor([[0.6, -1.1]])  # D(x) = v . x, a logit
    lr, w, seed, batch = 1e-2, 100.0, 5, 16
    lo = dict(method="gd", alpha=0.4, steps=1)
    G, D = _Linear(W0), _Linear(v0, score=True)
    real = torch.tensor([3.0, 3.0])
    train_gan(
        G,
        D,
        lambda n: real.expand(n, 2),
        loss="nonsaturating",
        steps=1,
        batch_size=batch,
        lr_d=lr,
        latent_dim=3,
        prior="normal",
        latent_optimisation=dict(lo, rz_weight=w),
        device="cpu",
        seed=seed,
    )

    seed_everything(seed)
    z = sample_prior(batch, 3, "normal")  # the z of the loop's single critic step
    Go, Do = _Linear(W0), _Linear(v0, score=True)
    z_new, dz = latent_optimise(z, Go, Do, prior="normal", **lo)
    l_d = discriminator_loss(Do(real.expand(batch, 2)), Do(Go(z_new)))
    steps = {}
    for sign in (+1, 0, -1):
        (g,) = torch.autograd.grad(
            l_d + sign * w * latent_regulariser(dz), Do.weight, retain_graph=True
        )
        steps[sign] = v0 - lr * g / (
            g.abs() + 1e-8
        )  # Adam's first step, bias-corrected
    assert (
        steps[+1] - steps[-1]
    ).abs().min().item() > 1.9 * lr  # the two signs move every coordinate apart
    assert (
        steps[+1] - steps[0]
    ).abs().max().item() > 1.9 * lr  # and R_z changes the step's direction
    assert torch.allclose(D.weight.detach(), steps[+1], atol=1e-6, rtol=0), (
        D.weight,
        steps[+1],
    )


def test_train_gan_refuses_rz_weight_without_create_graph():
    """With create_graph=False dz is a constant, so rz_weight * R_z would add no gradient to D: refuse it,
    saying which setting to change; rz_weight = 0 with create_graph=False is fine."""
    G, D = MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)
    with pytest.raises(ValueError, match="rz_weight=1.0 needs create_graph=True"):
        train_gan(
            G,
            D,
            RING.sample,
            steps=1,
            batch_size=8,
            device="cpu",
            latent_optimisation=dict(create_graph=False, rz_weight=1.0),
        )
    h = train_gan(
        G,
        D,
        RING.sample,
        steps=1,
        batch_size=8,
        device="cpu",
        latent_optimisation=dict(create_graph=False, rz_weight=0.0),
    )
    assert h["rz"][0] > 0  # R_z is still measured and logged


def test_logan_biggan_deep_constants_are_the_cited_ones_and_usable():
    """LOGAN_BIGGAN_DEEP holds the published NGD setting (alpha 0.9, beta 5, half of z, R_z weight 300,
    U(-1, 1), one step), and its step keys are accepted by latent_optimise: on g = (3, 4) with fraction 1
    the step is 0.9 (3, 4) / (5 + 25) (eq. logan-ngd), and with fraction 1/2 one of the two coordinates moves."""
    from glo_teach.gan import LOGAN_BIGGAN_DEEP as L

    assert (
        L["method"],
        L["alpha"],
        L["beta"],
        L["fraction"],
        L["rz_weight"],
        L["prior"],
        L["steps"],
    ) == ("ngd", 0.9, 5.0, 0.5, 300.0, "uniform", 1)
    step_keys = {k: L[k] for k in ("method", "alpha", "beta", "prior", "steps")}
    G = _Linear(torch.eye(2, dtype=torch.float64))
    D = _Linear(torch.tensor([[3.0, 4.0]], dtype=torch.float64), score=True)
    z = torch.zeros(1, 2, dtype=torch.float64)
    _, dz = latent_optimise(z, G, D, fraction=1.0, **step_keys)
    assert torch.allclose(
        dz, torch.tensor([[0.09, 0.12]], dtype=torch.float64), atol=1e-12, rtol=0
    )
    _, dz_half = latent_optimise(
        z,
        G,
        D,
        fraction=L["fraction"],
        generator_rng=torch.Generator().manual_seed(0),
        **step_keys,
    )
    assert int((dz_half != 0).sum()) == 1
