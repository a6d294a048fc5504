"""Generative Latent Optimization (Bojanowski et al. 2017): codes, Lap1 loss, training, sampling."""
