"""The one value range used everywhere: images live in [-1, 1], the range of ``tanh``.

pSNR's MAX is the peak-to-peak range ``PIXEL_RANGE = 2``; with it, pSNR takes the same value
as for images in [0, 1] with MAX = 1 (both numerator and MSE scale by 2^2).
"""

PIXEL_MIN = -1.0
PIXEL_MAX = 1.0
PIXEL_RANGE = PIXEL_MAX - PIXEL_MIN  # = 2, the MAX of pSNR (Eq. 2 of the GLO paper)
TEST_EVERY = 32  # the paper: evenly spaced 1/32 of the data is the test set
