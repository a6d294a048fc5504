"""An independent re-implementation of the public GLO training step, the yardstick of ``glo_speed.py``.

Written from the description of the public code (Bojanowski et al. 2017's released GLO, as
re-run in issue 17), not from its source and not from ``glo_teach``, so that the comparison is
"our loop" against "the way the public code does a step":

- the generator is a plain ``nn.Sequential`` DCGAN (ConvTranspose 4x4 from a (N, d, 1, 1) input,
  [ConvTranspose stride 2, BatchNorm, ReLU] x n, ConvTranspose, Tanh), default memory format;
- the codes live in a numpy array (N, d); each batch copies its rows into a fresh leaf tensor;
- one ``torch.optim.SGD`` over [theta, z] (built per batch, since z is a new leaf each batch);
- the loss is ``nn.MSELoss`` or a 3-level Laplacian-pyramid L1 (LapLoss): a 5 x 5 Gaussian
  (sigma 1), squared and normalised, applied as a depthwise convolution with replicate padding,
  average-pool downsampling by 2, pyramids of output and target built separately, the sum of
  the per-level mean absolute differences;
- after the step the new codes are projected onto the unit ball in numpy and written back.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def plain_generator(
    latent_dim: int, channels: int, size: int, width: int = 64
) -> nn.Sequential:
    """The DCGAN generator as a plain Sequential, input (N, d, 1, 1) -> (N, C, size, size)."""
    n = int(math.log2(size)) - 2
    widths = [width * 2 ** (n - 1 - i) for i in range(n)]
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(True),
    ]
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [
            nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False),
            nn.BatchNorm2d(b),
            nn.ReLU(True),
        ]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
    net = nn.Sequential(*layers)
    for m in net.modules():  # DCGAN init
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net


class LapLoss(nn.Module):
    """Sum over 3 pyramid levels of mean |L_k(x) - L_k(y)| (plus the low-pass residual)."""

    def __init__(
        self, channels: int, levels: int = 3, size: int = 5, sigma: float = 1.0
    ):
        super().__init__()
        t = np.arange(size, dtype=np.float64) - size // 2
        g2 = (
            np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2)) ** 2
        )  # squared Gaussian, 5 x 5
        k = torch.tensor(g2 / g2.sum(), dtype=torch.float32)
        self.register_buffer(
            "kernel", k.expand(channels, 1, size, size).contiguous()
        )  # depthwise
        self.levels, self.pad = levels, size // 2

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pad
        return F.conv2d(
            F.pad(x, (p, p, p, p), mode="replicate"), self.kernel, groups=x.shape[1]
        )

    def pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for _ in range(self.levels):
            low = self._blur(x)
            out.append(x - low)  # band-pass
            x = F.avg_pool2d(low, 2)
        out.append(x)  # low-pass residual
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return sum(F.l1_loss(a, b) for a, b in zip(self.pyramid(x), self.pyramid(y)))


class ReferenceGLO:
    """The public code's training state and step: ``step(idx)`` trains on images[idx]."""

    def __init__(
        self,
        images: torch.Tensor,
        latent_dim: int,
        loss: str,
        lr_g: float = 0.1,
        lr_z: float = 10.0,
        seed: int = 0,
    ):
        torch.manual_seed(seed)
        n, c, s, _ = images.shape
        self.images, self.lr_g, self.lr_z = images, lr_g, lr_z
        self.net = plain_generator(latent_dim, c, s).train()
        z = (
            np.random.default_rng(seed)
            .standard_normal((n, latent_dim))
            .astype(np.float32)
        )
        self.z = self._project(z)
        self.criterion = nn.MSELoss() if loss == "mse" else LapLoss(c)

    @staticmethod
    def _project(z: np.ndarray) -> np.ndarray:
        return z / np.maximum(
            np.linalg.norm(z, axis=1, keepdims=True), 1.0
        )  # onto the unit ball

    def step(self, idx: np.ndarray) -> float:
        zi = torch.from_numpy(self.z[idx]).requires_grad_(True)  # (B, d) fresh leaf
        x = self.images[idx]  # (B, C, s, s) from memory
        opt = torch.optim.SGD(
            [
                {"params": self.net.parameters(), "lr": self.lr_g},
                {"params": [zi], "lr": self.lr_z},
            ]
        )
        loss = self.criterion(self.net(zi.view(len(idx), -1, 1, 1)), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        self.z[idx] = self._project(zi.detach().numpy())
        return loss.item()

    def epoch(self, batch_size: int, steps: int, rng: np.random.Generator) -> None:
        order = rng.permutation(len(self.images))
        for i in range(steps):
            self.step(order[i * batch_size : (i + 1) * batch_size])
