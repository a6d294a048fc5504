"""glo-teach: GANs, VAEs and Generative Latent Optimization, derived, implemented and tested.

The public API is listed here; subpackages (``glo_teach.gan``, ``glo_teach.glo``,
``glo_teach.vae``, ``glo_teach.metrics``) hold the chapter-specific code.
"""

from .budgets import BUDGETS, Budget, default_device, get_budget
from .checkpoint import load_checkpoint, save_checkpoint
from .data import ImageDataset, batches, load_dataset, paper_split
from .guard import DivergenceError
from .nets import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from .seed import seed_everything

__version__ = "0.1.0"

__all__ = [
    "BUDGETS",
    "Budget",
    "default_device",
    "get_budget",
    "load_checkpoint",
    "save_checkpoint",
    "ImageDataset",
    "batches",
    "load_dataset",
    "paper_split",
    "DivergenceError",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "dcgan_init_",
    "seed_everything",
]
