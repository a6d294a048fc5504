"""Variational autoencoders: the ELBO, the Gaussian KL, the reparameterisation trick, a DCGAN-decoder VAE."""

from .elbo import (
    LIKELIHOODS,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_likelihood,
    reparameterize,
)
from .model import VAE
from .train import train_vae

__all__ = [
    "LIKELIHOODS",
    "bernoulli_log_likelihood",
    "elbo",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "reparameterize",
    "VAE",
    "train_vae",
]
