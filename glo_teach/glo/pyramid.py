"""The Laplacian pyramid and the Lap1 loss of GLO (Bojanowski et al. 2017, Sec. 2).

Pyramid (Burt & Adelson 1983). With ``blur`` a separable Gaussian filter (the 2-D kernel is
the *product* k(u) k(v) of two 1-D Gaussians), REDUCE = blur then keep every other pixel,
EXPAND = insert zeros then blur with gain 4. The Gaussian levels are G_0 = x,
G_{k+1} = REDUCE(G_k), and the Laplacian levels are

    L_k = G_k - EXPAND(G_{k+1})   (k = 0 .. K-2, band-pass, fine to coarse),
    L_{K-1} = G_{K-1}             (the low-pass residual),

so ``reconstruct`` inverts the pyramid exactly: G_k = L_k + EXPAND(G_{k+1}), from coarse to fine.

Indexing and normalisation of Lap1. The paper writes Lap1(x, x') = sum_j 2^{2j} |L^j(x) - L^j(x')|_1
and says it "weights the details at fine scales more heavily". We index levels fine to coarse
(k = 0 is full resolution) and take |.|_1 as the *mean* over the coefficients of a level:

    Lap1(x, x') = sum_{k=0}^{K-1} 2^{-2k} mean |L_k(x) - L_k(x')|.

This is the paper's formula with j = K-1-k counting levels from the coarsest (j = 0) to the
finest, divided by the constant 2^{2(K-1)} so that the finest level has weight 1. Because level
k has 4^{-k} as many coefficients as level 0, it also equals sum_k |L_k(x) - L_k(x')|_1 / P_0
(plain sums over coefficients, divided by the pixel count P_0 of x): every coefficient weighs
the same, and a level's total weight 4^{-k} falls with coarseness — fine details weigh most.

Two readings of Lap1 are in use, and :func:`lap1_loss` offers both (``reading=``):

- ``"coefficient"`` (ours, the default): the formula above, every pyramid coefficient weighs
  1 / P_0, so the mean of level k weighs 4^{-k} and the low-pass residual's mean 4^{-(K-1)}.
- ``"level"`` (public GLO code, e.g. tneumann/minimal_glo's ``sum(l1_loss(a, b) for ...)``):
  Lap1_level(x, x') = sum_{k=0}^{K-1} mean |L_k(x) - L_k(x')|, every level's *mean* counts
  equally (weight 1), so a coefficient of level k weighs 4^k / P_0 and coarse levels weigh more
  per coefficient than in the coefficient reading.

The choice between them needs Table 1's Lap1 half run under both at the paper's scale (issue 13);
until then the default stays "coefficient".

Speed. Blur, REDUCE and EXPAND are linear and separable, so each is one small matrix per axis
(:func:`filter_matrix`, reflect borders built in) applied as M_H x M_W^T: matrix products, fast
on any device, and no tensor of inserted zeros. The pyramid is linear too, so Lap1 builds one
pyramid, of x - x', instead of two.
"""

from __future__ import annotations

import functools
import math

import torch

from .._validate import check_images, check_positive_int, check_same_shape

__all__ = [
    "gaussian_kernel_1d",
    "filter_matrix",
    "blur",
    "laplacian_pyramid",
    "reconstruct",
    "lap1_weights",
    "lap1_loss",
    "glo_loss",
    "LAP1_READINGS",
]

LOSSES = ("mse", "lap1", "l2+lap1")
LAP1_READINGS = ("coefficient", "level")  # see the module docstring and lap1_loss


def gaussian_kernel_1d(
    size: int = 5, sigma: float | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A normalised 1-D Gaussian of odd length ``size`` (sum 1).

    ``sigma=None`` (the default) gives the binomial kernel C(size-1, t) / 2^(size-1), the discrete
    Gaussian of variance (size-1)/4 (for size 5: [1, 4, 6, 4, 1] / 16, sigma = 1, Burt & Adelson's
    generating kernel). It keeps constants constant under REDUCE and EXPAND and removes the
    checkerboard exactly. A float ``sigma`` gives the sampled k(t) = exp(-t^2 / (2 sigma^2)) / Z,
    t = -(size-1)/2 .. (size-1)/2. Book: {eq}`laplacian-pyramid`.
    """
    check_positive_int(size, "size")
    if size % 2 != 1:
        raise ValueError(f"size must be odd, got {size}")
    if sigma is None:
        k = torch.tensor(
            [math.comb(size - 1, t) for t in range(size)], dtype=torch.float64
        )
    else:
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        k = torch.exp(-(t**2) / (2 * sigma**2))
    return (k / k.sum()).to(dtype)


def blur(x: torch.Tensor, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding: (k_v * (k_h * x)), 2-D kernel K = outer(k, k).

    Filtering rows with k and then columns with k is the convolution with the product kernel
    K(u, v) = k(u) k(v) (not k(u) + k(v)). Shape (N, C, H, W) -> (N, C, H, W), each channel on its
    own; computed as B_H x B_W^T with the 1-D blur matrices of :func:`filter_matrix`.
    Book: {eq}`laplacian-pyramid`.
    """
    check_images(x, "x")
    return _separable(x, "blur", kernel)


def filter_matrix(
    n: int, kernel: torch.Tensor | None = None, kind: str = "blur"
) -> torch.Tensor:
    """The 1-D operator of ``kind`` on signals of length n, as a float64 matrix (rows = outputs).

    "blur": B (n, n), B[i, r(i + t - p)] += k[t] with p = (len(k) - 1) / 2 and r the reflection at
    the borders (-1 -> 1, n -> n - 2: torch's and scipy's "reflect"/"mirror");
    "reduce": R = B[::2] (n/2, n), blur then keep every other sample;
    "expand": E = 2 B[:, ::2] (n, n/2), insert zeros, blur, gain 2 (so 4 for the 2-D EXPAND).
    Blur, REDUCE and EXPAND are linear and separable, so on an image x (H, W) each is one matrix
    per axis, M_H x M_W^T: two small matrix products instead of one pass per kernel tap and a
    tensor full of inserted zeros. Book: {eq}`laplacian-pyramid`.
    """
    check_positive_int(n, "n")
    if kind not in ("blur", "reduce", "expand"):
        raise ValueError(f"kind must be 'blur', 'reduce' or 'expand', got {kind!r}")
    return _filter_matrix(
        n, _taps(kernel), kind, torch.float64, torch.device("cpu")
    ).clone()


def _taps(kernel: torch.Tensor | None) -> tuple[float, ...]:
    """The 1-D kernel as a hashable tuple (the default binomial [1, 4, 6, 4, 1] / 16 when None)."""
    k = (
        gaussian_kernel_1d(dtype=torch.float64)
        if kernel is None
        else kernel.detach().cpu().double()
    )
    return tuple(k.tolist())


@functools.lru_cache(maxsize=64)  # built once per (size, kernel, kind, dtype, device)
def _filter_matrix(
    n: int, k: tuple[float, ...], kind: str, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    p = (len(k) - 1) // 2
    if n <= p:
        raise ValueError(
            f"blur with a {len(k)}-tap kernel needs images larger than {p}x{p}, got size {n}"
        )
    b = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for t, k_t in enumerate(k):
            j = abs(i + t - p)  # reflect at the start: -1 -> 1
            b[i, j if j < n else 2 * (n - 1) - j] += (
                k_t  # reflect at the end: n -> n - 2
            )
    m = {"blur": b, "reduce": b[::2], "expand": 2 * b[:, ::2]}[kind]
    return m.to(device=device, dtype=dtype).contiguous()


def _separable(x: torch.Tensor, kind: str, kernel: torch.Tensor | None) -> torch.Tensor:
    """M_H x M_W^T for every image and channel: (N, C, H, W) -> (N, C, H', W')."""
    k = _taps(kernel)
    up = 2 if kind == "expand" else 1  # EXPAND's matrix is defined on the output length
    m_h = _filter_matrix(up * x.shape[2], k, kind, x.dtype, x.device)  # (H', H)
    m_w = _filter_matrix(up * x.shape[3], k, kind, x.dtype, x.device)  # (W', W)
    return m_h @ (x @ m_w.T)  # (N, C, H, W) -> (N, C, H, W') -> (N, C, H', W')


def _reduce(x: torch.Tensor, kernel: torch.Tensor | None) -> torch.Tensor:
    return _separable(
        x, "reduce", kernel
    )  # blur, keep every other pixel: (N, C, H, W) -> (N, C, H/2, W/2)


def _expand(x: torch.Tensor, kernel: torch.Tensor | None) -> torch.Tensor:
    return _separable(
        x, "expand", kernel
    )  # insert zeros, blur, gain 4: (N, C, H, W) -> (N, C, 2H, 2W)


def laplacian_pyramid(
    x: torch.Tensor, levels: int = 4, kernel: torch.Tensor | None = None
) -> list[torch.Tensor]:
    """[L_0, ..., L_{K-1}] with K = ``levels``: L_k = G_k - EXPAND(G_{k+1}), last = low-pass G_{K-1}.

    Level k has shape (N, C, H / 2^k, W / 2^k); H and W must be divisible by 2^(K-1).
    Book: {eq}`laplacian-pyramid`.
    """
    check_images(x, "x")
    check_positive_int(levels, "levels")
    h, w = x.shape[2:]
    f = 2 ** (levels - 1)
    if h % f or w % f or min(h, w) // f < 2:
        raise ValueError(
            f"{levels} pyramid levels need H and W divisible by {f} with a coarsest level of "
            f"at least 2x2, got {h}x{w}"
        )
    pyramid, g = [], x
    for _ in range(levels - 1):
        g_next = _reduce(g, kernel)
        pyramid.append(g - _expand(g_next, kernel))  # band-pass detail at this scale
        g = g_next
    pyramid.append(g)  # low-pass residual
    return pyramid


def reconstruct(
    pyramid: list[torch.Tensor], kernel: torch.Tensor | None = None
) -> torch.Tensor:
    """x from its pyramid: G_{K-1} = L_{K-1}, G_k = L_k + EXPAND(G_{k+1}); returns G_0.

    The exact inverse of :func:`laplacian_pyramid`. Book: {eq}`laplacian-pyramid`.
    """
    if not isinstance(pyramid, (list, tuple)) or not pyramid:
        raise TypeError(
            f"pyramid must be a non-empty list of tensors, got {type(pyramid).__name__}"
        )
    g = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        g = detail + _expand(g, kernel)
    return g


def lap1_weights(levels: int) -> list[float]:
    """[2^{-2k} for k = 0 .. levels-1]: weight of level k, finest (k = 0) first. Book: {eq}`glo-lap1`."""
    check_positive_int(levels, "levels")
    return [4.0**-k for k in range(levels)]


def lap1_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    levels: int = 4,
    reduction: str = "mean",
    reading: str = "coefficient",
) -> torch.Tensor:
    """Lap1(x, y) per image, in one of its two readings (k = 0 finest, K = ``levels``):

    ``reading="coefficient"`` (default): Lap1(x, y) = sum_{k=0}^{K-1} 2^{-2k} mean_{c,h,w} |L_k(x) - L_k(y)|
    = sum_k sum_{c,h,w} |L_k(x) - L_k(y)| / P_0 (P_0 = C H W): every coefficient weighs the same,
    the low-pass residual's mean weighs 4^{-(K-1)};
    ``reading="level"`` (public GLO code): Lap1(x, y) = sum_{k=0}^{K-1} mean_{c,h,w} |L_k(x) - L_k(y)|:
    every level's mean weighs 1.

    The default stays "coefficient" until the reference runs of Table 1's Lap1 half say which
    reading matches the paper's rows. ``reduction``: "mean" over the batch (a scalar) or "none"
    (shape (N,)). The fine-to-coarse index is explained in the module docstring. Book: {eq}`glo-lap1`.
    """
    check_images(x, "x")
    check_images(y, "y")
    check_same_shape(x, y, "x and y")
    if reading not in LAP1_READINGS:
        raise ValueError(f"reading must be one of {LAP1_READINGS}, got {reading!r}")
    weights = lap1_weights(levels) if reading == "coefficient" else [1.0] * levels
    # the pyramid is linear, L_k(x) - L_k(y) = L_k(x - y): one pyramid instead of two
    pyramid = laplacian_pyramid(x - y, levels)
    per_image = sum(
        w * l_k.abs().flatten(1).mean(1) for w, l_k in zip(weights, pyramid)
    )
    return _reduce_batch(per_image, reduction)


def glo_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    kind: str = "mse",
    levels: int = 4,
    reduction: str = "mean",
    lap1_reading: str = "coefficient",
) -> torch.Tensor:
    """The reconstruction loss l(g(z), x) of GLO, per image, reduced over the batch.

    kind="mse": mean_{c,h,w} (x - y)^2 (the paper's choice for MNIST);
    kind="lap1": :func:`lap1_loss` (in the reading ``lap1_reading``, "coefficient" or "level");
    kind="l2+lap1": mean (x - y)^2 + Lap1(x, y), equal weights (the paper's choice for SVHN and
    CelebA; it does not give the weights). ``reduction``: "mean" over the batch, "sum", or "none"
    (shape (N,)). Book: {eq}`glo-objective`, {eq}`glo-lap1`.
    """
    if kind not in LOSSES:
        raise ValueError(f"loss kind must be one of {LOSSES}, got {kind!r}")
    check_images(x, "x")
    check_images(y, "y")
    check_same_shape(x, y, "x and y")
    per_image = x.new_zeros(len(x))
    if kind in ("mse", "l2+lap1"):
        per_image = per_image + (x - y).pow(2).flatten(1).mean(1)
    if kind in ("lap1", "l2+lap1"):
        per_image = per_image + lap1_loss(
            x, y, levels, reduction="none", reading=lap1_reading
        )
    return _reduce_batch(per_image, reduction)


def _reduce_batch(per_image: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return per_image.mean()
    if reduction == "sum":
        return per_image.sum()
    if reduction == "none":
        return per_image
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
