"""GAN theory and training: the minimax game, its losses, Lipschitz tools and the training loop."""

# --- theory: value.py, losses.py, lipschitz.py, noise.py, dirac.py ---

# --- training: train.py, conditional.py, cyclegan.py ---
