"""Class-conditional DCGAN (Mirza & Osindero 2014) for MNIST: both players see the label y.

The game becomes min_G max_D E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]:
D must judge whether x is a real image *of digit y*, so G must draw the digit it is asked for.

- :class:`ConditionalGenerator`: a learnt label embedding e(y) (N, embed_dim) is concatenated to
  z, and the result goes through the ordinary :class:`~glo_teach.nets.DCGANGenerator`.
- :class:`ConditionalDiscriminator`: the one-hot label is broadcast to n_classes constant image
  planes, concatenated to x as extra channels, and the result goes through the ordinary
  :class:`~glo_teach.nets.DCGANDiscriminator`.

Train them with the one GAN loop: ``train_gan(G, D, mnist, conditional=True, ...)`` passes the
labels of each real batch to both networks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_labels, check_latent, check_tensor
from ..nets import DCGANDiscriminator, DCGANGenerator

__all__ = ["ConditionalGenerator", "ConditionalDiscriminator"]


class ConditionalGenerator(nn.Module):
    """G(z, y) = DCGANGenerator([z, e(y)]): R^d x {0..K-1} -> [-1, 1]^{C x size x size}. Book: {eq}`cgan-value`"""

    def __init__(
        self,
        latent_dim: int = 100,
        n_classes: int = 10,
        embed_dim: int = 10,
        channels: int = 1,
        size: int = 32,
        width: int = 64,
    ):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, embed_dim)  # y (N,) -> e(y) (N, embed_dim)
        self.net = DCGANGenerator(latent_dim + embed_dim, channels, size, width)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim)
        y = check_labels(y, len(z), self.n_classes, "y")
        return self.net(
            torch.cat([z, self.embed(y)], dim=1)
        )  # (N, d + e) -> (N, C, size, size)


class ConditionalDiscriminator(nn.Module):
    """D(x, y) = DCGANDiscriminator([x, onehot(y) planes]), one logit per image (N,). Book: {eq}`cgan-value`"""

    def __init__(
        self,
        n_classes: int = 10,
        channels: int = 1,
        size: int = 32,
        width: int = 64,
        norm: str = "batch",
    ):
        super().__init__()
        self.n_classes, self.channels, self.size = n_classes, channels, size
        self.net = DCGANDiscriminator(channels + n_classes, size, width, norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = check_tensor(x, "x")
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.size, self.size):
            raise ValueError(
                f"x must have shape (N, {self.channels}, {self.size}, {self.size}), got {tuple(x.shape)}"
            )
        y = check_labels(y, len(x), self.n_classes, "y")
        planes = F.one_hot(y, self.n_classes).to(x.dtype)[
            :, :, None, None
        ]  # (N,) -> (N, K, 1, 1)
        planes = planes.expand(-1, -1, self.size, self.size)  # -> (N, K, size, size)
        return self.net(torch.cat([x, planes], dim=1))  # (N, C + K, size, size) -> (N,)
