"""Small MLPs for the 1-D and 2-D toy distributions (the ring, the grid, 1-D mixtures).

Generator: z (N, latent_dim) -> [Linear, ReLU] x depth -> Linear -> x (N, data_dim), no output
activation (the toys are not bounded). Discriminator: x (N, data_dim) -> [Linear, LeakyReLU(0.2)]
x depth -> Linear -> one logit or score per sample, shape (N,). No BatchNorm anywhere: the
gradient penalty is defined per sample and BatchNorm couples the samples of a batch.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import check_latent, check_positive_int, check_tensor

__all__ = ["MLPGenerator", "MLPDiscriminator"]


def _mlp(
    n_in: int, n_out: int, hidden: int, depth: int, act: type[nn.Module]
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):  # (N, n_in) -> (N, hidden) -> ... -> (N, hidden)
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), act()]
    layers.append(nn.Linear(hidden if depth else n_in, n_out))  # -> (N, n_out)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: R^latent_dim -> R^data_dim, x = G(z)."""

    def __init__(
        self, latent_dim: int = 2, data_dim: int = 2, hidden: int = 128, depth: int = 3
    ):
        super().__init__()
        for v, n in (
            (latent_dim, "latent_dim"),
            (data_dim, "data_dim"),
            (hidden, "hidden"),
            (depth, "depth"),
        ):
            check_positive_int(v, n)
        self.latent_dim, self.data_dim = latent_dim, data_dim
        self.net = _mlp(latent_dim, data_dim, hidden, depth, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim)
        return self.net(z)  # (N, latent_dim) -> (N, data_dim)


class MLPDiscriminator(nn.Module):
    """D: R^data_dim -> R, one logit (or critic score) per sample, shape (N,)."""

    def __init__(self, data_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        for v, n in ((data_dim, "data_dim"), (hidden, "hidden"), (depth, "depth")):
            check_positive_int(v, n)
        self.data_dim = data_dim
        self.net = _mlp(data_dim, 1, hidden, depth, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = check_tensor(x, "x")
        if x.dim() != 2 or x.shape[1] != self.data_dim:
            raise ValueError(
                f"x must have shape (N, {self.data_dim}), got {tuple(x.shape)}"
            )
        return self.net(x).reshape(-1)  # (N, data_dim) -> (N, 1) -> (N,)
