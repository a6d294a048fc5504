"""CycleGAN: cycle loss and translation error on exact maps, domain transforms, a short resumable run."""

import math

import pytest
import torch
from torch import nn

from glo_teach import ImageDataset
from glo_teach.gan import (
    CycleGenerator,
    PatchDiscriminator,
    cycle_consistency_loss,
    domain_transform,
    make_domains,
    train_cyclegan,
    translation_error,
)


class _Negate(nn.Module):
    """The exact inverse pair for colour inversion: G(x) = -x, F(y) = -y."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(
            torch.zeros(())
        )  # translation_error reads the device from a parameter

    def forward(self, x):
        return -x


def _images(n=16, seed=0):
    return (
        torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    )


def test_cycle_loss_zero_for_exact_inverse_pair():
    """G(x) = -x, F(y) = -y: F(G(x)) = x, so L_cyc = mean|F(G(x)) - x| = 0 (eq. cyclegan-cycle), both ways."""
    G = F = _Negate()
    x, y = _images(seed=0), _images(seed=1)
    assert cycle_consistency_loss(x, F(G(x))).item() == 0.0
    assert cycle_consistency_loss(y, G(F(y))).item() == 0.0


def test_cycle_loss_hand_computed():
    """mean|x_rec - x| on a 2-pixel case: |0.5 - 0| and |-1 - 1| -> (0.5 + 2) / 2 = 1.25."""
    x = torch.tensor([0.0, 1.0]).reshape(1, 1, 1, 2)
    x_rec = torch.tensor([0.5, -1.0]).reshape(1, 1, 1, 2)
    assert abs(cycle_consistency_loss(x, x_rec).item() - 1.25) < 1e-7


def test_translation_error_exact_and_identity():
    """Against T(x) = -x: the exact inverse scores 0; the identity map scores mean|x - (-x)| = 2 mean|x|
    (eq. cyclegan-translation-error)."""
    x = _images(40)
    target = domain_transform(x, "invert")
    assert translation_error(_Negate(), x, target) == 0.0
    identity = nn.Conv2d(1, 1, 1, bias=False)
    nn.init.ones_(identity.weight)
    err = translation_error(
        identity, x, target, batch_size=7
    )  # uneven batches: the mean is still exact
    assert abs(err - 2 * x.abs().mean().item()) < 1e-6


def test_domain_transforms_match_torch():
    x = _images(3)
    assert torch.equal(domain_transform(x, "invert"), -x)
    assert torch.equal(domain_transform(x, "transpose"), x.permute(0, 1, 3, 2))
    assert torch.equal(domain_transform(x, "rot90"), torch.rot90(x, 1, (2, 3)))
    four = x
    for _ in range(4):
        four = domain_transform(four, "rot90")
    assert torch.equal(four, x)
    with pytest.raises(ValueError):
        domain_transform(x, "flip")


def test_make_domains_is_unpaired_and_disjoint():
    """X gets the even images, Y the transform of the odd ones: no image appears in both."""
    ds = ImageDataset(_images(10), torch.arange(10))
    X, Y = make_domains(ds, "invert")
    assert len(X) == len(Y) == 5
    assert torch.equal(X.labels, torch.arange(0, 10, 2)) and torch.equal(
        Y.labels, torch.arange(1, 10, 2)
    )
    assert torch.equal(Y.images, -ds.images[1::2])


def test_networks_shapes_and_range():
    G, D = CycleGenerator(width=8, n_res=1), PatchDiscriminator(width=8)
    x = _images(4)
    y = G(x)
    assert y.shape == (4, 1, 32, 32) and y.abs().max() <= 1
    assert D(x).shape == (4, 64)
    with pytest.raises(ValueError):
        G(torch.zeros(4, 1, 28, 28))


def _nets(seed, width=8):
    torch.manual_seed(seed)
    return (
        CycleGenerator(width=width, n_res=1),
        CycleGenerator(width=width, n_res=1),
        PatchDiscriminator(width=width),
        PatchDiscriminator(width=width),
    )


def test_train_cyclegan_resumes_bitwise(tmp_path):
    """6 steps uninterrupted == 4 steps + a fresh call resuming to 6 (identity loss on, to use every term)."""
    ds = ImageDataset(_images(48), torch.zeros(48, dtype=torch.long))
    X, Y = make_domains(ds)
    kw = dict(
        batch_size=8, device="cpu", seed=1, identity_weight=5.0, checkpoint_every=2
    )
    nets1 = _nets(0)
    h1 = train_cyclegan(*nets1, X, Y, steps=6, **kw)
    train_cyclegan(*_nets(0), X, Y, steps=4, checkpoint_dir=tmp_path, **kw)
    nets3 = _nets(0)
    h3 = train_cyclegan(*nets3, X, Y, steps=6, checkpoint_dir=tmp_path, **kw)
    for a, b in zip(nets1, nets3):
        for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
            assert ka == kb and torch.equal(va, vb), ka
    assert h1["g_loss"] == h3["g_loss"] and h1["cycle_loss"] == h3["cycle_loss"]
    assert all(math.isfinite(v) for v in h1["d_loss"] + h1["g_loss"])


def test_train_cyclegan_learns_inversion_direction():
    """A short run on real digits: G's translation error against -x falls below the untrained G's.
    (Untrained G outputs ~0, error ~ mean|x| ~ 0.8; learning the inversion must beat that.)"""
    from glo_teach.data import load_dataset

    ds = load_dataset("mnist", "test", n=512)
    X, Y = make_domains(ds, "invert")
    G, F, D_x, D_y = _nets(0, width=16)
    x_test = ds.images[:128]
    before = translation_error(G, x_test, -x_test)
    train_cyclegan(
        G, F, D_x, D_y, X, Y, steps=60, batch_size=16, lr=2e-3, device="cpu", seed=0
    )
    after = translation_error(G, x_test, -x_test)
    assert after < 0.5 * before


def test_train_cyclegan_validates():
    X = ImageDataset(_images(8))
    with pytest.raises(ValueError):
        train_cyclegan(*_nets(0), X, X, steps=0, device="cpu")
    with pytest.raises(ValueError):
        train_cyclegan(*_nets(0), X, X, steps=2, lr=float("nan"), device="cpu")
    with pytest.raises(ValueError):
        train_cyclegan(
            *_nets(0), X, X, steps=2, batch_size=16, device="cpu"
        )  # fewer images than a batch


def test_adversarial_term_is_the_papers_plain_mse():
    """eq. cyclegan-objective: G's adversarial term is Zhu et al.'s E (D(G(x)) - 1)^2, i.e. torch's
    nn.MSELoss against target 1 (their code), twice Mao et al.'s 1/2 mean (D - 1)^2 (eq. lsgan-loss)."""
    from glo_teach.gan.cyclegan import cyclegan_adversarial_loss
    from glo_teach.gan.losses import lsgan_generator_loss

    scores = torch.randn(
        64, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    oracle = nn.MSELoss()(scores, torch.ones_like(scores))
    assert abs(cyclegan_adversarial_loss(scores).item() - oracle.item()) < 1e-12
    assert (
        abs(
            cyclegan_adversarial_loss(scores).item()
            - 2 * lsgan_generator_loss(scores).item()
        )
        < 1e-12
    )


class _Scale(nn.Module):
    """t -> a t exactly. The parameter w enters as w - w.detach() (value 0, gradient 1): Adam may move w,
    the map never changes, so every step of train_cyclegan sees the same networks."""

    def __init__(self, a):
        super().__init__()
        self.a, self.w = a, nn.Parameter(torch.zeros(()))

    def forward(self, t):
        return self.a * t + (self.w - self.w.detach())


class _ConstScore(nn.Module):
    """A patch discriminator that scores every image s on each of 4 patches, (N, ...) -> (N, 4)."""

    def __init__(self, s):
        super().__init__()
        self.s, self.w = s, nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return torch.full((len(x), 4), self.s) + (self.w - self.w.detach())


def _signs(n, value, seed):
    """n images whose pixels are +-value (random signs): mean|x| = value exactly, whatever the batch."""
    g = torch.Generator().manual_seed(seed)
    return ImageDataset(
        value * (torch.randint(0, 2, (n, 1, 32, 32), generator=g) * 2 - 1).float()
    )


def test_generator_loss_hand_computed_adversarial_cycle_and_identity_terms():
    """train_cyclegan's L_G (eq. cyclegan-objective) on maps with known values: G(t) = a t, F(t) = b t, D_Y = s_y,
    D_X = s_x, |x| = 0.2, |y| = 0.9 on every pixel:
      adversarial  (s_y - 1)^2 + (s_x - 1)^2                     (no 1/2: Zhu et al.'s plain MSE)
      cycle        |ab - 1| (0.2 + 0.9)                          (times cycle_weight)
      identity     |a - 1| 0.9 + |b - 1| 0.2                     (G fed y, F fed x; times identity_weight)
    and L_D = 1/2 [(s_y - 1)^2 + s_y^2] + 1/2 [(s_x - 1)^2 + s_x^2]. With the 1/2 on the G term, the
    identity loss on the wrong domain (|a - 1| 0.2 + |b - 1| 0.9) or cycle_weight ignored the number differs."""
    a, b, s_y, s_x, lam_cyc, lam_id = 0.5, 3.0, 0.25, -0.5, 3.0, 0.7
    X, Y = _signs(16, 0.2, 0), _signs(16, 0.9, 1)
    h = train_cyclegan(
        _Scale(a),
        _Scale(b),
        _ConstScore(s_x),
        _ConstScore(s_y),
        X,
        Y,
        steps=2,
        batch_size=8,
        cycle_weight=lam_cyc,
        identity_weight=lam_id,
        device="cpu",
    )
    adv = (s_y - 1) ** 2 + (s_x - 1) ** 2
    cyc = abs(a * b - 1) * (0.2 + 0.9)
    idt = abs(a - 1) * 0.9 + abs(b - 1) * 0.2
    for g_loss, c_loss, d_loss in zip(h["g_loss"], h["cycle_loss"], h["d_loss"]):
        assert abs(c_loss - cyc) < 1e-6
        assert abs(g_loss - (adv + lam_cyc * cyc + lam_id * idt)) < 1e-5, g_loss
        assert (
            abs(
                d_loss
                - (0.5 * ((s_y - 1) ** 2 + s_y**2) + 0.5 * ((s_x - 1) ** 2 + s_x**2))
            )
            < 1e-6
        )
    with pytest.raises(ValueError, match="cycle_weight"):
        train_cyclegan(
            _Scale(a),
            _Scale(b),
            _ConstScore(s_x),
            _ConstScore(s_y),
            X,
            Y,
            steps=1,
            batch_size=8,
            cycle_weight=-1.0,
            device="cpu",
        )
