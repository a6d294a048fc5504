"""DCGAN generator and discriminator (Radford et al. 2015)."""

import pytest
import torch
from torch import nn

from glo_teach import DCGANDiscriminator, DCGANGenerator
from glo_teach.nets import eval_mode


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(size, channels):
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=7, channels=channels, size=size, width=8)
    d = DCGANDiscriminator(channels=channels, size=size, width=8)
    z = 10 * torch.randn(4, 7)  # large codes saturate tanh but never leave [-1, 1]
    x = g(z)
    assert x.shape == (4, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (4,)
    # one doubling per stage: 4 -> size
    n_up = sum(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    assert 4 * 2 ** (n_up - 1) == size


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=100, channels=3, size=64)
    w = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
    bn = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(bn.mean().item() - 1.0) < 0.01


def test_errors_say_what_was_expected():
    g, d = DCGANGenerator(latent_dim=8), DCGANDiscriminator(channels=1, size=32)
    with pytest.raises(ValueError, match="latent dimension 8, got 5"):
        g(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        g(torch.randn(2, 8, 1, 1))
    with pytest.raises(ValueError, match="32x32 pixels, got 28x28"):
        d(torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="1 channel"):
        d(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match="image size must be one of"):
        DCGANGenerator(size=48)


def test_critic_without_batchnorm_is_per_sample():
    """norm='none': each logit depends only on its own image (needed by the gradient penalty)."""
    torch.manual_seed(0)
    d = DCGANDiscriminator(channels=1, size=32, width=8, norm="none").train()
    x = torch.randn(5, 1, 32, 32)
    torch.testing.assert_close(d(x)[:2], d(x[:2]))


@pytest.mark.parametrize("channels_last", [False, True])
def test_first_layer_as_matrix_product_equals_the_transposed_convolution(channels_last):
    """The generator computes its first layer as z @ W.flatten(1); PyTorch's ConvTranspose2d on the
    1x1 input (the oracle) must give the same images and the same gradients for z and theta."""
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=5, channels=3, size=32, width=8).double()
    if channels_last:
        g = g.to(memory_format=torch.channels_last)
    z = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    x = g(z)
    x_ref = g.net(z[:, :, None, None])  # every layer as an nn.Module, the first a ConvTranspose2d
    torch.testing.assert_close(x, x_ref, rtol=0, atol=1e-12)
    w = torch.randn_like(x)
    grads = torch.autograd.grad((x * w).sum(), [z, g.net[0].weight])
    grads_ref = torch.autograd.grad((x_ref * w).sum(), [z, g.net[0].weight])
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_preactivation_is_every_layer_but_the_tanh():
    """g(z) = tanh(a(z)) with a(z) the ConvTranspose2d stack without its last layer (the oracle)."""
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=5, channels=1, size=32, width=8).double().eval()
    z = torch.randn(4, 5, dtype=torch.float64)
    a = g.preactivation(z)
    torch.testing.assert_close(a, g.net[:-1](z[:, :, None, None]), rtol=0, atol=1e-12)
    torch.testing.assert_close(g(z), torch.tanh(a), rtol=0, atol=0)


def test_eval_mode_restores_each_mode_even_after_an_error():
    g, d = DCGANGenerator(latent_dim=3, width=8).train(), DCGANDiscriminator(width=8).eval()
    with eval_mode(g, d):
        assert not g.training and not d.training
    assert g.training and not d.training
    with pytest.raises(RuntimeError, match="boom"):
        with eval_mode(g):
            raise RuntimeError("boom")
    assert g.training
