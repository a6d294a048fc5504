"""bench/_plain_layers.py: the "before" that bench/book_timing.py --compare-plain and
bench/reference_cost.py --compare-plain time against (the stock PyTorch layers)."""

import sys
from pathlib import Path

import pytest
import torch

from glo_teach import nets
from glo_teach import DCGANGenerator
from glo_teach.vae import VAE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import _plain_layers  # noqa: E402


def _no_fast_layers(monkeypatch):
    def fail(*_):
        raise AssertionError("a fast layer ran")

    monkeypatch.setattr(nets, "conv_transpose_s2_as_matmul", fail)
    monkeypatch.setattr(nets, "conv_transpose_s2_subpixel", fail)


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_plain_layers_run_no_fast_layer_and_restore_them(monkeypatch, size, channels):
    """Inside plain_layers() the generator (and the VAE's decoder) runs without the fast last layers and
    gives g.net's images; after the block, even one left by an error, the fast layers are back."""
    torch.manual_seed(0)
    g = DCGANGenerator(6, channels, size, width=8).to(memory_format=torch.channels_last)
    vae = VAE(6, channels, size, 8)
    z = torch.randn(3, 6)
    x_fast = g(z)
    _no_fast_layers(monkeypatch)
    with pytest.raises(RuntimeError, match="left"):
        with _plain_layers.plain_layers():
            x_plain = g(z)
            vae.decode_preactivation(z)
            torch.testing.assert_close(x_plain, g.net(z[:, :, None, None]))
            torch.testing.assert_close(x_plain, x_fast, rtol=1e-5, atol=1e-6)
            raise RuntimeError("left by an error")
    with pytest.raises(AssertionError, match="a fast layer ran"):
        g(z)


def test_install_cell_swaps_the_layers_for_the_whole_process(monkeypatch):
    """INSTALL, the cell book_timing.py puts first in each notebook, swaps in the plain layers."""
    monkeypatch.setattr(DCGANGenerator, "preactivation", DCGANGenerator.preactivation)
    exec(_plain_layers.INSTALL, {})
    assert DCGANGenerator.preactivation is _plain_layers.plain_preactivation
