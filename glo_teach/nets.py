"""DCGAN generator and discriminator (Radford, Metz, Chintala 2015) for 32, 64 and 128 pixels.

Generator: z (N, d) -> (N, d, 1, 1) -> ConvTranspose 4x4 to 4x4 -> [ConvTranspose stride 2,
BatchNorm, ReLU] doubling the size up to ``size`` -> tanh, so images lie in [-1, 1].
Discriminator: the mirror image with strided convolutions and LeakyReLU(0.2), no BatchNorm on
the first layer, and a final 4x4 convolution to one logit per image (no sigmoid: losses take
logits). ``norm="none"`` or ``"layer"`` removes BatchNorm from the critic, as a gradient penalty
needs (it is defined per sample, which BatchNorm couples across the batch).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn

from ._validate import check_images, check_latent

__all__ = [
    "DCGANGenerator",
    "DCGANDiscriminator",
    "dcgan_init_",
    "eval_mode",
    "conv_transpose_s2_as_matmul",
    "conv_transpose_s2_subpixel",
]

SIZES = (32, 64, 128)


def _n_stages(size: int) -> int:
    if size not in SIZES:
        raise ValueError(f"image size must be one of {SIZES}, got {size}")
    return int(math.log2(size)) - 2  # 4x4 -> size takes log2(size/4) doublings


class DCGANGenerator(nn.Module):
    """g_theta: R^d -> [-1, 1]^{C x size x size}."""

    def __init__(
        self, latent_dim: int = 100, channels: int = 1, size: int = 32, width: int = 64
    ):
        super().__init__()
        n = _n_stages(size)
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        widths = [
            width * 2 ** (n - 1 - i) for i in range(n)
        ]  # e.g. 32 px: [256, 128, 64]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(
                latent_dim, widths[0], 4, 1, 0, bias=False
            ),  # (N, d, 1, 1) -> (N, w0, 4, 4)
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for w_in, w_out in zip(
            widths[:-1], widths[1:]
        ):  # each: (N, w_in, s, s) -> (N, w_out, 2s, 2s)
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.ReLU(True),
            ]
        layers += [
            nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False),
            nn.Tanh(),
        ]  # -> (N, C, size, size)
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net[-1](
            self.preactivation(z)
        )  # tanh: (N, C, size, size) in [-1, 1]

    def preactivation(self, z: torch.Tensor) -> torch.Tensor:
        """a(z), the output before the final tanh, (N, d) -> (N, C, size, size); g(z) = tanh(a(z))."""
        check_latent(z, self.latent_dim)
        # The first layer, a 4x4 transposed convolution of a 1x1 input, is one matrix product with
        # its weight (d, w0, 4, 4) seen as (d, w0 * 16): same values, 3x faster forward and backward on CPU.
        first = self.net[0]
        h = (z @ first.weight.flatten(1)).view(
            len(z), first.out_channels, 4, 4
        )  # (N, d) -> (N, w0, 4, 4)
        if first.weight.is_contiguous(memory_format=torch.channels_last):
            h = h.contiguous(memory_format=torch.channels_last)
        h = self.net[1:-2](h)  # (N, w0, 4, 4) -> (N, w, size/2, size/2)
        return self.last_layer(h)  # -> (N, C, size, size)

    def last_layer(self, h: torch.Tensor) -> torch.Tensor:
        """The last transposed convolution (no BatchNorm, no tanh), (N, w, s, s) -> (N, C, 2s, 2s), computed
        from the ConvTranspose2d's own weight: as matmul + fold for C = 1, as a sub-pixel convolution for C > 1.

        Measured fwd + bwd (with the tanh), batch 128, channels_last, 1 thread, against the plain
        ConvTranspose2d in the same process: C = 1, 16 -> 32 px: fold 1.6-1.8x, sub-pixel 1.5x; C = 3,
        32 -> 64 px: fold 0.7x, sub-pixel 1.25-1.3x (bench/glo_speed.py --levers).
        """
        weight = self.net[-2].weight
        if weight.shape[1] == 1:
            return conv_transpose_s2_as_matmul(h, weight)
        return conv_transpose_s2_subpixel(h, weight)


def conv_transpose_s2_as_matmul(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, stride=2, padding=1)`` for a 4x4 kernel, as a matmul + col2im.

    x (N, Cin, H, W), weight (Cin, Cout, 4, 4) -> (N, Cout, 2H, 2W). Each input pixel contributes
    weight^T x[:, :, i, j], a (Cout, 4, 4) patch, at (2i - 1, 2j - 1); ``fold`` sums the patches.
    Used for the generator's last layer: with Cout = 1 or 3 oneDNN's transposed convolution runs at
    a few % of the matmul rate, the product (Cout * 16, Cin) @ (Cin, H W) at most of it (1.6-1.8x
    faster forward + backward at Cout = 1; at Cout = 3, 32 -> 64 px, 0.7x, where
    :func:`conv_transpose_s2_subpixel` wins instead; bench/glo_speed.py --levers, same process).
    """
    n, c_in, h, w = x.shape
    cols = weight.reshape(c_in, -1).t() @ x.reshape(
        n, c_in, h * w
    )  # (N, Cout * 16, H W); a view in either layout
    return nn.functional.fold(
        cols, (2 * h, 2 * w), 4, stride=2, padding=1
    )  # (N, Cout, 2H, 2W)


def conv_transpose_s2_subpixel(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``F.conv_transpose2d(x, weight, stride=2, padding=1)`` for a 4x4 kernel, as one stride-1 convolution.

    x (N, Cin, H, W), weight (Cin, Cout, 4, 4) -> (N, Cout, 2H, 2W). Output pixel (2i + a, 2j + b), phase
    a, b in {0, 1}, gets input rows i - 1 + a, i + a through kernel rows T_a = (3, 1) for a = 0 and (2, 0)
    for a = 1 (likewise columns), so with x_p = x zero-padded by 1:

        y[n, o, 2i + a, 2j + b] = sum_{c, r, s in {0, 1}} W[c, o, T_a[r], T_b[s]] x_p[n, c, i + a + r, j + b + s].

    That is one 2x2 convolution of x_p to 4 Cout channels, K[(a, b, o), c, r, s] = W[c, o, T_a[r], T_b[s]]
    (the same weight rearranged each call: parameters and state_dict are the ConvTranspose2d's), giving
    every phase on an (H + 1, W + 1) grid; phase (a, b) is its window offset by (a, b), and one strided view
    interleaves the four (a pixel shuffle with a per-phase offset), copied once into (N, Cout, 2H, 2W).
    """
    n, c_in, h, w = x.shape
    c_out = weight.shape[1]
    taps = [3, 1, 2, 0]  # T_0 then T_1
    k = weight[:, :, taps][:, :, :, taps].reshape(
        c_in, c_out, 2, 2, 2, 2
    )  # (c, o, a, r, b, s)
    k = k.permute(2, 4, 1, 0, 3, 5).reshape(
        4 * c_out, c_in, 2, 2
    )  # (a, b, o) x c x r x s
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        k = k.contiguous(
            memory_format=torch.channels_last
        )  # oneDNN: the input's layout for both
    out = nn.functional.conv2d(
        x, k, padding=1
    )  # (N, 4 Cout, H + 1, W + 1), channel (a, b, o)
    s_n, s_c, s_h, s_w = out.stride()
    phases = out.as_strided(
        (n, c_out, h, 2, w, 2),
        (s_n, s_c, s_h, 2 * c_out * s_c + s_h, s_w, c_out * s_c + s_w),
        out.storage_offset(),
    )  # [n, o, i, a, j, b] = out[n, (a, b, o), i + a, j + b]
    return phases.reshape(n, c_out, 2 * h, 2 * w)


class DCGANDiscriminator(nn.Module):
    """D: [-1, 1]^{C x size x size} -> R, one logit per image (shape (N,))."""

    def __init__(
        self, channels: int = 1, size: int = 32, width: int = 64, norm: str = "batch"
    ):
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
        n = _n_stages(size)
        self.channels, self.size = channels, size
        widths = [width * 2**i for i in range(n)]  # e.g. 32 px: [64, 128, 256]
        layers: list[nn.Module] = [
            nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
        ]
        s = size // 2
        for w_in, w_out in zip(
            widths[:-1], widths[1:]
        ):  # each: (N, w_in, s, s) -> (N, w_out, s/2, s/2)
            s //= 2
            layers += [
                nn.Conv2d(w_in, w_out, 4, 2, 1, bias=norm == "none"),
                _norm(norm, w_out, s),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [
            nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)
        ]  # (N, w, 4, 4) -> (N, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "x", channels=self.channels, size=self.size)
        return self.net(x).reshape(-1)  # (N, 1, 1, 1) -> (N,)


def _norm(kind: str, channels: int, s: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.LayerNorm([channels, s, s])
    return nn.Identity()


@contextlib.contextmanager
def eval_mode(*nets: nn.Module) -> Iterator[None]:
    """Inside the block every net is in eval mode (BatchNorm uses its running statistics); afterwards,
    even after an error, each is back in the mode it was in."""
    modes = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)


def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN init: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module
