"""Variational autoencoders: the ELBO, the Gaussian KL, the reparameterisation trick, a DCGAN-decoder VAE."""
