"""CycleGAN: cycle loss and translation error on exact maps, domain transforms, a short resumable run."""

import math

import pytest
import torch
from torch import nn

from glo_teach import ImageDataset
from glo_teach.gan import (CycleGenerator, PatchDiscriminator, cycle_consistency_loss, domain_transform,
                           make_domains, train_cyclegan, translation_error)


class _Negate(nn.Module):
    """The exact inverse pair for colour inversion: G(x) = -x, F(y) = -y."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))  # translation_error reads the device from a parameter

    def forward(self, x):
        return -x


def _images(n=16, seed=0):
    return torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


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
    err = translation_error(identity, x, target, batch_size=7)  # uneven batches: the mean is still exact
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
    assert torch.equal(X.labels, torch.arange(0, 10, 2)) and torch.equal(Y.labels, torch.arange(1, 10, 2))
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
    return (CycleGenerator(width=width, n_res=1), CycleGenerator(width=width, n_res=1),
            PatchDiscriminator(width=width), PatchDiscriminator(width=width))


def test_train_cyclegan_resumes_bitwise(tmp_path):
    """6 steps uninterrupted == 4 steps + a fresh call resuming to 6 (identity loss on, to use every term)."""
    ds = ImageDataset(_images(48), torch.zeros(48, dtype=torch.long))
    X, Y = make_domains(ds)
    kw = dict(batch_size=8, device="cpu", seed=1, identity_weight=5.0, checkpoint_every=2)
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
    train_cyclegan(G, F, D_x, D_y, X, Y, steps=60, batch_size=16, lr=2e-3, device="cpu", seed=0)
    after = translation_error(G, x_test, -x_test)
    assert after < 0.5 * before


def test_train_cyclegan_validates():
    X = ImageDataset(_images(8))
    with pytest.raises(ValueError):
        train_cyclegan(*_nets(0), X, X, steps=0, device="cpu")
    with pytest.raises(ValueError):
        train_cyclegan(*_nets(0), X, X, steps=2, lr=float("nan"), device="cpu")
    with pytest.raises(ValueError):
        train_cyclegan(*_nets(0), X, X, steps=2, batch_size=16, device="cpu")  # fewer images than a batch
