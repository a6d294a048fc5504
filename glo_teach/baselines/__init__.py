"""Baselines for GLO's Table 1 that are not deep networks: PCA, the linear autoencoder."""

from .pca import PCA

__all__ = ["PCA"]
