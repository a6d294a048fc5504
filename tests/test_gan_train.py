"""train_gan: the loop learns the ring, resumes bitwise, stops on divergence, validates its inputs."""

import math

import pytest
import torch
from torch import nn

from glo_teach import DCGANDiscriminator, DCGANGenerator, DivergenceError, ImageDataset
from glo_teach.data import ring_of_gaussians
from glo_teach.gan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    MLPDiscriminator,
    MLPGenerator,
    train_gan,
)
from glo_teach.metrics import high_quality_fraction, mode_coverage

RING = ring_of_gaussians()
COARSE_STD = 0.25  # 3 sigma = 0.75 < half the 1.53 gap between ring modes: "which mode is it near"


def _toy_nets(seed: int, hidden: int = 64):
    torch.manual_seed(seed)
    return MLPGenerator(hidden=hidden), MLPDiscriminator(hidden=hidden)


@pytest.fixture(scope="module")
def ring_runs():
    """Vanilla (non-saturating) GAN and WGAN-GP on the 8-Gaussian ring, same budget and seeds."""
    runs = {}
    for loss, kw in [
        ("nonsaturating", {}),
        ("wgan-gp", dict(n_critic=5, betas=(0.5, 0.9))),
    ]:
        G, D = _toy_nets(0)
        hist = train_gan(
            G,
            D,
            RING.sample,
            loss=loss,
            steps=400,
            batch_size=128,
            lr_g=1e-3,
            lr_d=1e-3,
            device="cpu",
            seed=0,
            **kw,
        )
        with torch.no_grad():
            runs[loss] = (
                hist,
                G(torch.randn(1000, 2, generator=torch.Generator().manual_seed(1))),
            )
    G0, _ = _toy_nets(0)
    with torch.no_grad():
        runs["untrained"] = (
            None,
            G0(torch.randn(1000, 2, generator=torch.Generator().manual_seed(1))),
        )
    return runs


def test_ring_losses_finite_and_history_complete(ring_runs):
    """Both games log one finite (d_loss, g_loss) per step; WGAN-GP logs a positive penalty."""
    for loss in ("nonsaturating", "wgan-gp"):
        hist, _ = ring_runs[loss]
        assert hist["step"] == list(range(400))
        assert all(
            math.isfinite(v)
            for key in ("d_loss", "g_loss", "penalty")
            for v in hist[key]
        )
    assert all(p == 0.0 for p in ring_runs["nonsaturating"][0]["penalty"])
    assert max(ring_runs["wgan-gp"][0]["penalty"]) > 0


def test_ring_wgan_gp_spreads_over_modes(ring_runs):
    """WGAN-GP (eq. gan-alternating-sgd with the wgan-gp pair) puts >= 20% of its fair share near >= 6 of
    the 8 modes; the untrained generator is near none. Coverage at 3 x 0.25 (eq. modes-coverage)."""
    _, s = ring_runs["wgan-gp"]
    _, s0 = ring_runs["untrained"]
    assert mode_coverage(s, RING.centers, COARSE_STD, min_count=25) >= 6
    assert mode_coverage(s0, RING.centers, COARSE_STD, min_count=1) == 0


def test_ring_vanilla_gan_moves_mass_to_the_ring(ring_runs):
    """The non-saturating GAN brings many samples near some mode (>= 30% vs 0% untrained)."""
    _, s = ring_runs["nonsaturating"]
    _, s0 = ring_runs["untrained"]
    assert high_quality_fraction(s, RING.centers, COARSE_STD) >= 0.3
    assert high_quality_fraction(s0, RING.centers, COARSE_STD) == 0.0


def _assert_same_params(a: nn.Module, b: nn.Module):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


class _Crash(Exception):
    """Stands in for a lost session: raised from the callback in the middle of training."""


def _crash_at(k: int):
    def callback(step, G, D):
        if step == k:
            raise _Crash

    return callback


def test_resume_equals_uninterrupted_toy(tmp_path):
    """12 steps in one call == a run that crashes at step 8 (checkpoint at 5) and is resumed by a fresh call:
    bitwise equal parameters and losses. WGAN-GP with spectral norm and annealed instance noise, so every
    piece of state (optimisers, RNGs, power-iteration vectors, noise schedule) is exercised."""
    kw = dict(
        loss="wgan-gp",
        n_critic=2,
        batch_size=32,
        spectral_norm=True,
        instance_noise=0.1,
        device="cpu",
        seed=3,
        checkpoint_every=5,
        steps=12,
    )
    G1, D1 = _toy_nets(1, hidden=16)
    h1 = train_gan(G1, D1, RING.sample, **kw)
    G2, D2 = _toy_nets(1, hidden=16)
    with pytest.raises(_Crash):
        train_gan(
            G2, D2, RING.sample, checkpoint_dir=tmp_path, callback=_crash_at(8), **kw
        )
    G3, D3 = _toy_nets(
        1, hidden=16
    )  # a fresh process would start from freshly built nets
    torch.manual_seed(12345)  # and from an unrelated RNG state
    h3 = train_gan(G3, D3, RING.sample, checkpoint_dir=tmp_path, **kw)
    _assert_same_params(G1, G3)
    _assert_same_params(D1, D3)
    assert (
        h1["d_loss"] == h3["d_loss"]
        and h1["g_loss"] == h3["g_loss"]
        and h3["step"] == list(range(12))
    )


def _image_data(n: int = 40, labels: bool = False) -> ImageDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 32, 32, generator=g) * 2 - 1
    return ImageDataset(x, torch.randint(10, (n,), generator=g) if labels else None)


def test_resume_equals_uninterrupted_images(tmp_path):
    """DCGAN (BatchNorm) on an ImageDataset: a crash mid-epoch (checkpoint after 3 batches, 2 per epoch)
    and a resume restore the shuffled data stream exactly."""
    kw = dict(
        loss="nonsaturating",
        batch_size=16,
        device="cpu",
        seed=0,
        latent_dim=8,
        steps=5,
        checkpoint_every=3,
    )
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(
            (DCGANGenerator(8, 1, 32, width=8), DCGANDiscriminator(1, 32, width=8))
        )
    train_gan(*nets[0], _image_data(), **kw)
    with pytest.raises(_Crash):
        train_gan(
            *nets[1],
            _image_data(),
            checkpoint_dir=tmp_path,
            callback=_crash_at(4),
            **kw,
        )
    torch.manual_seed(0)
    G, D = DCGANGenerator(8, 1, 32, width=8), DCGANDiscriminator(1, 32, width=8)
    train_gan(G, D, _image_data(), checkpoint_dir=tmp_path, **kw)
    _assert_same_params(nets[0][0], G)
    _assert_same_params(nets[0][1], D)


def test_finished_checkpoint_returns_without_training(tmp_path):
    """A checkpoint at the final step: the call returns its history and leaves the nets as saved."""
    G, D = _toy_nets(0, hidden=8)
    h = train_gan(
        G, D, RING.sample, steps=3, batch_size=8, device="cpu", checkpoint_dir=tmp_path
    )
    G2, D2 = _toy_nets(5, hidden=8)
    h2 = train_gan(
        G2,
        D2,
        RING.sample,
        steps=3,
        batch_size=8,
        device="cpu",
        checkpoint_dir=tmp_path,
    )
    assert h2 == h
    _assert_same_params(G, G2)
    with pytest.raises(ValueError, match="loss"):
        train_gan(
            G2,
            D2,
            RING.sample,
            loss="hinge",
            steps=3,
            batch_size=8,
            device="cpu",
            checkpoint_dir=tmp_path,
        )


class _CountingD(MLPDiscriminator):
    calls = 0

    def forward(self, x):
        type(self).calls += 1
        return super().forward(x)


def test_n_critic_discriminator_steps_per_generator_step():
    """Each step: n_critic D steps (2 forwards: real, fake) + 1 G step (1 forward) = 2 n_critic + 1 calls."""
    torch.manual_seed(0)
    G, D = MLPGenerator(hidden=8), _CountingD(hidden=8)
    _CountingD.calls = 0
    train_gan(
        G, D, RING.sample, loss="hinge", n_critic=3, steps=4, batch_size=8, device="cpu"
    )
    assert _CountingD.calls == 4 * (2 * 3 + 1)


def test_wgan_clip_keeps_critic_weights_clipped():
    """After every critic step all critic parameters lie in [-c, c] (eq. wgan-clip)."""
    G, D = _toy_nets(0, hidden=16)
    train_gan(
        G,
        D,
        RING.sample,
        loss="wgan-clip",
        clip=0.01,
        n_critic=2,
        steps=3,
        batch_size=16,
        device="cpu",
        lr_d=0.1,
    )
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01


@pytest.mark.parametrize("loss", ["minimax", "lsgan", "hinge", "wgan-clip"])
def test_every_loss_runs_finite(loss):
    G, D = _toy_nets(0, hidden=8)
    h = train_gan(G, D, RING.sample, loss=loss, steps=5, batch_size=16, device="cpu")
    assert len(h["d_loss"]) == 5 and all(
        math.isfinite(v) for v in h["d_loss"] + h["g_loss"]
    )


def test_huge_learning_rate_is_caught_within_one_step():
    """lr = 1e8: Adam moves every weight by ~1e8 at step 0; the guard raises before step 1 starts."""
    G, D = _toy_nets(0, hidden=8)
    seen = []
    with pytest.raises(DivergenceError, match=r"step 0.*learning rate"):
        train_gan(
            G,
            D,
            RING.sample,
            steps=5,
            batch_size=8,
            lr_d=1e8,
            device="cpu",
            callback=lambda step, g, d: seen.append(step),
        )
    assert seen == []


def test_nan_data_is_caught_at_step_0():
    G, D = _toy_nets(0, hidden=8)
    with pytest.raises(DivergenceError, match="step 0"):
        train_gan(
            G,
            D,
            lambda n: torch.full((n, 2), float("nan")),
            steps=5,
            batch_size=8,
            device="cpu",
        )


@pytest.mark.parametrize(
    "bad, err",
    [
        (dict(lr_g=float("nan")), ValueError),
        (dict(lr_d=float("inf")), ValueError),
        (dict(lr_d=-1e-3), ValueError),
        (dict(loss="wgan"), ValueError),
        (dict(steps=0), ValueError),
        (dict(n_critic=1.5), ValueError),
        (dict(data=[1, 2, 3]), TypeError),
        (
            dict(data=ImageDataset(torch.zeros(4, 1, 32, 32))),
            ValueError,
        ),  # fewer images than a batch
    ],
)
def test_train_gan_validates_inputs(bad, err):
    G, D = _toy_nets(0, hidden=8)
    kwargs = dict(data=RING.sample, steps=2, batch_size=8, device="cpu") | bad
    with pytest.raises(err):
        train_gan(G, D, kwargs.pop("data"), **kwargs)


def test_gradient_penalty_refuses_batchnorm_critic():
    with pytest.raises(ValueError, match="BatchNorm"):
        train_gan(
            DCGANGenerator(8, 1, 32, width=8),
            DCGANDiscriminator(1, 32, width=8),
            _image_data(),
            loss="wgan-gp",
            steps=1,
            batch_size=8,
            device="cpu",
        )


def test_conditional_gan_runs_through_the_same_loop():
    """conditional=True passes the real labels to G(z, y) and D(x, y); the networks train and stay finite."""
    torch.manual_seed(0)
    G, D = (
        ConditionalGenerator(latent_dim=8, width=8),
        ConditionalDiscriminator(width=8),
    )
    before = [p.detach().clone() for p in G.parameters()]
    h = train_gan(
        G,
        D,
        _image_data(labels=True),
        conditional=True,
        steps=3,
        batch_size=8,
        device="cpu",
    )
    assert all(math.isfinite(v) for v in h["d_loss"] + h["g_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    assert not torch.equal(before[0], G.embed.weight)  # the label embedding is learnt


def test_conditional_shapes_and_label_dependence():
    """G(z, y) is (N, 1, 32, 32) in [-1, 1] and changes with y for a fixed z; D(x, y) is (N,) and depends on y."""
    torch.manual_seed(0)
    G, D = (
        ConditionalGenerator(latent_dim=8, width=8).eval(),
        ConditionalDiscriminator(width=8).eval(),
    )
    z = torch.randn(10, 8)
    y = torch.arange(10)
    x = G(z, y)
    assert x.shape == (10, 1, 32, 32) and x.abs().max() <= 1
    assert (G(z, (y + 1) % 10) - x).abs().max() > 1e-4
    assert D(x, y).shape == (10,)
    assert (D(x, y) - D(x, (y + 3) % 10)).abs().max() > 1e-6
    with pytest.raises(TypeError):
        G(z, y.float())
    with pytest.raises(ValueError):
        G(z, torch.full((10,), 10))
    with pytest.raises(ValueError):
        D(x, y[:5])


def test_toy_nets_shapes_and_validation():
    G, D = (
        MLPGenerator(latent_dim=3, data_dim=1, hidden=8),
        MLPDiscriminator(data_dim=1, hidden=8),
    )
    assert G(torch.randn(5, 3)).shape == (5, 1)
    assert D(torch.randn(5, 1)).shape == (5,)
    with pytest.raises(ValueError):
        G(torch.randn(5, 2))
    with pytest.raises(ValueError):
        D(torch.randn(5, 2))


class _Zero(nn.Module):
    """G(z) = 0 in R^2 exactly; w enters as w - w.detach() (value 0, gradient 1) so Adam has a parameter."""

    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, z):
        return torch.zeros(len(z), 2) + (self.w - self.w.detach())


class _RecordingD(MLPDiscriminator):
    """Records every input batch D sees, in call order: per step real, fake (D step), then fake (G step)."""

    def __init__(self):
        super().__init__(hidden=8)
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return super().forward(x)


def test_instance_noise_reaches_both_real_and_fake_inputs_with_the_schedule():
    """eq. instance-noise: D sees x + sigma_t n for real AND generated x, in the D step and in the G step, with
    sigma_t of eq. instance-noise-schedule (linear: sigma0 (1 - t/T)). Real data and G(z) are exactly 0, so each
    input D sees is pure noise: its std must be sigma_t (5 standard errors, 2 x 4096 values), independently
    drawn for the real and the fake batch. Noise on the fakes only would leave the real inputs at 0."""
    sigma0, steps, batch = 0.5, 4, 4096
    D = _RecordingD()
    train_gan(
        _Zero(),
        D,
        lambda n: torch.zeros(n, 2),
        steps=steps,
        batch_size=batch,
        instance_noise=sigma0,
        noise_schedule="linear",
        device="cpu",
    )
    assert len(D.inputs) == 3 * steps
    se = 5 / math.sqrt(
        2 * 2 * batch
    )  # relative standard error of a sample std, 5 of them
    for t in range(steps):
        sigma_t = sigma0 * (1 - t / steps)
        real, fake_d, fake_g = D.inputs[3 * t : 3 * t + 3]
        for x in (real, fake_d, fake_g):
            assert abs(x.std().item() / sigma_t - 1) < se, (t, x.std().item(), sigma_t)
        assert not torch.equal(real, fake_d)  # fresh noise for each batch
