"""Metrics: pSNR, mode coverage on the toys, a digit classifier and a Frechet distance in its features."""

# --- reconstruction: psnr.py ---

# --- generation: modes.py, classifier.py, frechet.py ---
