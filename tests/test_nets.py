"""DCGAN generator and discriminator (Radford et al. 2015)."""

import pytest
import torch
from torch import nn

from glo_teach import DCGANDiscriminator, DCGANGenerator
from glo_teach.guard import DivergenceError, check_bounded
from glo_teach.nets import (
    conv_transpose_s2_as_matmul,
    conv_transpose_s2_subpixel,
    eval_mode,
)
from glo_teach.reference import store


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
    w = torch.cat(
        [m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    )
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
    x_ref = g.net(
        z[:, :, None, None]
    )  # every layer as an nn.Module, the first a ConvTranspose2d
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
    g, d = (
        DCGANGenerator(latent_dim=3, width=8).train(),
        DCGANDiscriminator(width=8).eval(),
    )
    with eval_mode(g, d):
        assert not g.training and not d.training
    assert g.training and not d.training
    with pytest.raises(RuntimeError, match="boom"):
        with eval_mode(g):
            raise RuntimeError("boom")
    assert g.training


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("c_in,c_out,s", [(8, 1, 4), (6, 3, 8), (5, 7, 3)])
def test_last_layer_as_matmul_equals_the_transposed_convolution(
    channels_last, c_in, c_out, s
):
    """conv_transpose_s2_as_matmul (matmul + fold) against F.conv_transpose2d(stride 2, padding 1),
    the oracle: same output and same gradients for x and the weight, in float32 and either layout."""
    torch.manual_seed(0)
    x = torch.randn(4, c_in, s, s)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    w = torch.randn(c_in, c_out, 4, 4, requires_grad=True)
    _assert_is_conv_transpose_s2(conv_transpose_s2_as_matmul, x, w)


def _assert_is_conv_transpose_s2(layer, x, w):
    """``layer(x, w)`` equals the oracle F.conv_transpose2d(x, w, stride=2, padding=1): its shape
    (N, Cout, 2H, 2W), its values, and the gradients of x and w for a random upstream gradient."""
    y = layer(x, w)
    y_ref = nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
    n, _, h, w_in = x.shape
    assert y.shape == (n, w.shape[1], 2 * h, 2 * w_in)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    v = torch.randn_like(y_ref)
    grads = torch.autograd.grad((y * v).sum(), [x, w])
    grads_ref = torch.autograd.grad((y_ref * v).sum(), [x, w])
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("c_in,c_out,h,w", [(8, 1, 4, 4), (6, 3, 8, 8), (5, 7, 3, 5)])
def test_subpixel_convolution_equals_the_transposed_convolution(
    channels_last, c_in, c_out, h, w
):
    """conv_transpose_s2_subpixel (one 2x2 convolution to 4 Cout channels, then the phase interleave) against
    F.conv_transpose2d(stride 2, padding 1), the oracle: same output and same gradients for x and the weight,
    in float32 and either layout (the weight in the input's layout, as train_glo's channels_last generator)."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(4, c_in, h, w).contiguous(memory_format=fmt).requires_grad_(True)
    wt = (
        torch.randn(c_in, c_out, 4, 4)
        .contiguous(memory_format=fmt)
        .requires_grad_(True)
    )
    _assert_is_conv_transpose_s2(conv_transpose_s2_subpixel, x, wt)


@pytest.mark.skipif(
    store.REFERENCE_DIR is None
    or not (store.REFERENCE_DIR / "mnist" / "checkpoint.pt").exists(),
    reason="no committed reference/mnist",
)
def test_committed_generators_give_the_images_of_their_plain_layers():
    """reference/mnist/checkpoint.pt's GLO and DCGAN generators, loaded by load_models (the state_dict is the
    plain Sequential's), give through the fast layers the images of g.net run module by module (the oracle:
    what the checkpoint was trained and scored as), within 1e-5, in eval mode and in channels_last."""
    models = store.load_models(store.REFERENCE_DIR / "mnist", "cpu")
    torch.manual_seed(0)
    for name in ("GLO", "DCGAN"):
        g = models[name]
        z = torch.randn(16, g.latent_dim)
        with torch.no_grad():
            x_ref = g.net(z[:, :, None, None])
            torch.testing.assert_close(g(z), x_ref, rtol=0, atol=1e-5)
            torch.testing.assert_close(
                g.to(memory_format=torch.channels_last)(z), x_ref, rtol=0, atol=1e-5
            )


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_fast_generator_equals_its_plain_layers_for_every_parameter(size, channels):
    """g(z) (first layer as a matmul, last as matmul + fold at 1 channel, sub-pixel at 3) against g.net run layer by layer as
    nn.Modules (the oracle), in float32 and channels_last as train_glo runs it: images and the
    gradients of z and of every parameter agree; the state_dict keys are the plain Sequential's."""
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=6, channels=channels, size=size, width=8).to(
        memory_format=torch.channels_last
    )
    assert list(g.state_dict()) == ["net." + k for k in g.net.state_dict()]
    z = torch.randn(5, 6, requires_grad=True)
    x, x_ref = g(z), g.net(z[:, :, None, None])
    torch.testing.assert_close(x, x_ref, rtol=1e-5, atol=1e-6)
    v = torch.randn_like(x)
    params = [z, *g.parameters()]
    for a, b in zip(
        torch.autograd.grad((x * v).sum(), params),
        torch.autograd.grad((x_ref * v).sum(), params),
    ):
        torch.testing.assert_close(
            a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item()
        )  # float32 via BatchNorm


def test_check_bounded_agrees_with_max_abs_and_names_the_offender():
    """The one-pass guard (aminmax, one .item()) against the oracle max |t| = t.abs().max(): it passes
    exactly when every tensor is within the limit, and names the first tensor that is not."""
    torch.manual_seed(0)
    ok = [("a", torch.randn(50)), ("empty", torch.ones(0)), ("b", torch.randn(3, 4))]
    check_bounded(0, ok, max_abs=max(t.abs().max().item() for _, t in ok if t.numel()))
    cases = {
        "big negative": -2e4,
        "+inf": float("inf"),
        "-inf": float("-inf"),
        "nan": float("nan"),
    }
    for label, bad in cases.items():
        t = torch.randn(10)
        t[7] = bad
        with pytest.raises(DivergenceError, match=r"^bad reached \|value\| = "):
            check_bounded(3, [*ok, ("bad", t), ("later", torch.full((2,), 1e9))])
    t = torch.tensor([1e5, float("nan")])  # NaN next to a large value: still caught
    with pytest.raises(DivergenceError, match="x reached"):
        check_bounded(0, [("x", t)])
    with pytest.raises(
        DivergenceError, match=r"reached \|value\| = 3 at step 1 \(limit 2\)"
    ):
        check_bounded(1, [("y", torch.tensor([-3.0, 1.0]))], max_abs=2.0)
