"""A VAE whose decoder is the DCGAN generator (the paper's baseline: the same g for every model).

Encoder q_phi(z|x): the DCGAN discriminator's convolutions, (N, C, s, s) -> (N, w, 4, 4), then a
4x4 convolution to 2d channels, split into mu and logvar, each (N, d).

Decoder: ``DCGANGenerator``, whose last layer is tanh. Its pre-tanh activation a gives both
likelihoods without approximation, because tanh(a) = 2 sigmoid(2a) - 1:
- Gaussian: the mean of p(x|z) is the image g(z) = tanh(a), in [-1, 1];
- Bernoulli: the logits are 2a, so the Bernoulli mean sigmoid(2a) = (g(z) + 1) / 2 is the same
  image mapped to [0, 1]. Either way ``decode(z)`` is the image the decoder stands for, and the
  trained decoder is an ordinary DCGAN generator that GLO and DCGAN tools can use as is.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validate import check_images, check_latent
from ..nets import DCGANDiscriminator, DCGANGenerator
from .elbo import reparameterize

__all__ = ["VAE"]


class VAE(nn.Module):
    """Encoder (N, C, s, s) -> (mu, logvar) (N, d); decoder ``DCGANGenerator`` (N, d) -> (N, C, s, s)."""

    def __init__(
        self,
        latent_dim: int = 32,
        channels: int = 1,
        size: int = 32,
        width: int = 64,
        decoder: DCGANGenerator | None = None,
    ):
        super().__init__()
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        features = DCGANDiscriminator(channels, size, width).net
        head_in = features[
            -1
        ].in_channels  # width of the last feature map, e.g. 256 at 32 px
        self.encoder = features[
            :-1
        ]  # (N, C, s, s) -> (N, head_in, 4, 4): the critic without its logit
        self.head = nn.Conv2d(
            head_in, 2 * latent_dim, 4, 1, 0
        )  # (N, head_in, 4, 4) -> (N, 2d, 1, 1)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)
        self.decoder = (
            decoder
            if decoder is not None
            else DCGANGenerator(latent_dim, channels, size, width)
        )
        if (self.decoder.latent_dim, self.decoder.channels, self.decoder.size) != (
            latent_dim,
            channels,
            size,
        ):
            raise ValueError(
                f"decoder must map d={latent_dim} to {channels}x{size}x{size}, got d="
                f"{self.decoder.latent_dim} -> {self.decoder.channels}x{self.decoder.size}x{self.decoder.size}"
            )
        if not isinstance(self.decoder.net[-1], nn.Tanh):
            raise ValueError("the decoder's last layer must be tanh (a DCGANGenerator)")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of q(z|x) = N(mu, diag exp(logvar)), each (N, d). Book: {eq}`vae-elbo`"""
        check_images(x, "x", channels=self.channels, size=self.size)
        h = self.head(self.encoder(x)).flatten(1)  # (N, 2d, 1, 1) -> (N, 2d)
        mu, logvar = h.chunk(2, dim=1)  # (N, 2d) -> 2 x (N, d)
        return mu, logvar

    def decode_preactivation(self, z: torch.Tensor) -> torch.Tensor:
        """The generator's pre-tanh activation a(z), (N, d) -> (N, C, s, s)."""
        check_latent(z, self.latent_dim)
        return self.decoder.preactivation(z)  # (N, d) -> (N, C, s, s)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The image g(z) = tanh(a(z)) in [-1, 1]: the Gaussian mean, and the Bernoulli mean mapped to [-1, 1]."""
        return self.decoder(z)

    def decoder_output(self, z: torch.Tensor, likelihood: str) -> torch.Tensor:
        """What :func:`glo_teach.vae.elbo` takes: logits 2 a(z) (Bernoulli) or the mean tanh(a(z)) (Gaussian).

        Bernoulli logits are 2a because sigmoid(2a) = (tanh(a) + 1) / 2. Book: {eq}`vae-bernoulli`
        """
        a = self.decode_preactivation(z)
        if likelihood == "bernoulli":
            return 2.0 * a
        if likelihood == "gaussian":
            return torch.tanh(a)
        raise ValueError(
            f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}"
        )

    def forward(
        self,
        x: torch.Tensor,
        likelihood: str = "gaussian",
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(decoder output at one z ~ q(z|x), mu, logvar): the inputs of ``elbo`` after x."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)  # (N, d)
        return self.decoder_output(z, likelihood), mu, logvar

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """g(mu(x)): the decoder at the posterior mean, images in [-1, 1] (how Table 1 scores a VAE)."""
        return self.decode(self.encode(x)[0])

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """g(z) for n draws z ~ N(0, I) from the prior, (n, C, s, s) in [-1, 1]."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        return self.decode(z)
