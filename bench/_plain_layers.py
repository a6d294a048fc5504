"""The "before" of the speed work: every layer of the DCGAN generator as PyTorch's own layer.

``DCGANGenerator.preactivation`` computes its first layer as one matrix product and its last one as
matmul + fold (1 channel) or as a sub-pixel convolution (3 channels), from the ConvTranspose2d weights
(glo_teach/nets.py). :func:`plain_preactivation` is the same function through the stock
``nn.Sequential`` (every ConvTranspose2d as itself); :func:`plain_layers` swaps it in for a ``with``
block, and :data:`INSTALL` is the code cell that swaps it in for a whole notebook kernel
(``bench/book_timing.py --compare-plain``). Same weights, same values (within float tolerance,
``tests/test_nets.py``), so a run under it times what a plain implementation of the same model costs.
The memory format (channels_last in ``train_glo``) is left as it is in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from glo_teach.nets import DCGANGenerator

__all__ = ["INSTALL", "plain_layers", "plain_preactivation"]


def plain_preactivation(self: DCGANGenerator, z: torch.Tensor) -> torch.Tensor:
    """a(z) through ``self.net[:-1]``, every layer PyTorch's own: (N, d) -> (N, C, size, size)."""
    h = z.view(len(z), self.latent_dim, 1, 1)  # (N, d) -> (N, d, 1, 1)
    if self.net[0].weight.is_contiguous(memory_format=torch.channels_last):
        h = h.contiguous(memory_format=torch.channels_last)
    return self.net[:-1](h)  # -> (N, C, size, size), before the tanh


@contextmanager
def plain_layers() -> Iterator[None]:
    """Inside the block every DCGANGenerator (and the VAE's decoder, which calls it) uses the plain layers."""
    fast = DCGANGenerator.preactivation
    DCGANGenerator.preactivation = plain_preactivation
    try:
        yield
    finally:
        DCGANGenerator.preactivation = fast


def install() -> None:
    """Plain layers for the rest of this process (a notebook kernel)."""
    DCGANGenerator.preactivation = plain_preactivation


INSTALL = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    "import _plain_layers; _plain_layers.install()"
)
