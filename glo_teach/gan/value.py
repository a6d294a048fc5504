"""The value of the GAN game, the optimal discriminator and the divergences it measures.

Goodfellow et al. (2014) define a two-player game between a discriminator D (maximises) and a
generator G (minimises):

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))].

For a fixed G the best D is D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1), and at
that D the value is V(D*, G) = -log 4 + 2 JS(p_data || p_g) (Theorem 1): the generator
minimises a Jensen-Shannon divergence.

Conventions used here:

- Discriminators return **logits** l, D(x) = sigmoid(l). Log-probabilities are computed as
  log D = logsigmoid(l) and log(1 - D) = logsigmoid(-l), finite for any finite l.
  Sigmoid-then-log is not: in float32 sigmoid(l) rounds to 1 for l >= 17, so
  log(1 - sigmoid(l)) = log 0 = -inf, and it underflows to 0 for l < -88.
- Densities are tensors of values on a common set of points, last dim = the points.
  Divergences use 0 log 0 = 0 and p log(p / 0) = +inf for p > 0. Without ``dx`` the inputs are
  probability vectors (each sums to 1 over the last dim); with ``dx`` they are densities sampled
  on a uniform grid of spacing ``dx`` and every sum is a Riemann sum sum_i f(x_i) dx.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._validate import check_same_shape, check_tensor

__all__ = [
    "minimax_value",
    "optimal_discriminator",
    "kl_divergence",
    "js_divergence",
    "value_at_optimum",
]

_MASS_TOL = (
    1e-2  # how far from 1 the total mass of p or q may be before we call it a mistake
)


def _check_logits(x: object, name: str) -> torch.Tensor:
    """One score per sample: shape (N,) or (N, 1), floating point, N >= 1."""
    x = check_tensor(x, name)
    if not (x.dim() == 1 or (x.dim() == 2 and x.shape[1] == 1)):
        raise ValueError(
            f"{name} must have shape (N,) or (N, 1) (one score per sample), got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    return x


def minimax_value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Empirical value of the GAN game from the discriminator's logits.

    V_hat = (1/N) sum_i log D(x_i) + (1/M) sum_j log(1 - D(G(z_j)))
          = mean(logsigmoid(real_logits)) + mean(logsigmoid(-fake_logits)),

    a scalar <= 0 (D maximises it, G minimises it). ``real_logits`` (N,) or (N, 1) are D's logits
    on data, ``fake_logits`` (M,) or (M, 1) on generated samples; N and M may differ.
    Book: {eq}`gan-value`, {eq}`gan-value-empirical`.
    """
    real_logits = _check_logits(real_logits, "real_logits")
    fake_logits = _check_logits(fake_logits, "fake_logits")
    # log(1 - sigmoid(l)) = log(sigmoid(-l)): the stable form of the fake term
    return F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean()


def _check_densities(
    p: object, q: object, names: str, points: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same-shape, floating, non-negative; with ``points`` at least one point on the last dim."""
    p, q = (
        check_tensor(p, names.split(",")[0]),
        check_tensor(q, names.split(",")[-1].strip()),
    )
    check_same_shape(p, q, names)
    if points and (p.dim() == 0 or p.shape[-1] == 0):
        raise ValueError(
            f"{names} must have at least one point on the last dim, got shape {tuple(p.shape)}"
        )
    if not (p.is_floating_point() and q.is_floating_point()):
        raise TypeError(
            f"{names} must be floating-point tensors, got {p.dtype} and {q.dtype}"
        )
    if (p < 0).any() or (q < 0).any():
        raise ValueError(
            f"{names} must be non-negative (probabilities or densities), got a negative value"
        )
    return p, q


def _check_mass(
    p: torch.Tensor, q: torch.Tensor, dx: float | None, names: str
) -> float:
    """Return the quadrature weight (1 for probability vectors, dx on a grid); check total mass ~ 1."""
    w = 1.0 if dx is None else float(dx)
    if w <= 0:
        raise ValueError(f"dx must be a positive grid spacing, got {dx!r}")
    for name, t in zip(names.split(","), (p, q)):
        mass = t.sum(-1) * w
        if ((mass - 1).abs() > _MASS_TOL).any():
            hint = (
                "pass dx= (the grid spacing) for densities sampled on a grid"
                if dx is None
                else "widen the grid"
            )
            raise ValueError(
                f"{name.strip()} must have total mass 1 (sum over the last dim{' times dx' if dx else ''}), "
                f"got {mass.min().item():.4g}..{mass.max().item():.4g}; {hint}"
            )
    return w


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """The optimal discriminator for a fixed generator (Goodfellow et al. 2014, Proposition 1).

    D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise on density values (any shape, same
    for both), and D*(x) = 1/2 where p_data(x) = p_g(x) = 0.

    Why 1/2 for 0/0: at such x the integrand p_data log D + p_g log(1 - D) is 0 whatever D(x) is,
    so every value is optimal there; 1/2 ("cannot tell") is the value D* takes everywhere at the
    global optimum p_g = p_data, it keeps log D* and log(1 - D*) finite, and it is the limit of
    D* when both densities vanish at the same rate. Book: {eq}`gan-optimal-d`.
    """
    p_data, p_g = _check_densities(p_data, p_g, "p_data, p_g", points=False)
    total = p_data + p_g
    both_zero = total == 0
    return torch.where(
        both_zero,
        torch.full_like(total, 0.5),
        p_data / torch.where(both_zero, 1.0, total),
    )


def kl_divergence(
    p: torch.Tensor, q: torch.Tensor, dx: float | None = None
) -> torch.Tensor:
    """Kullback-Leibler divergence in nats over the last dim.

    KL(p || q) = sum_i p_i log(p_i / q_i)          (probability vectors, ``dx=None``)
    KL(p || q) = sum_i p(x_i) log(p(x_i) / q(x_i)) dx   (densities on a uniform grid)

    with 0 log(0 / q) = 0 and p log(p / 0) = +inf for p > 0. Returns shape p.shape[:-1]; always
    >= 0 (Gibbs' inequality). Inputs must have total mass 1 within 1e-2 (else ValueError).
    Book: {eq}`gan-kl`.
    """
    p, q = _check_densities(p, q, "p, q")
    w = _check_mass(p, q, dx, "p, q")
    # xlogy(p, p) - xlogy(p, q): 0 where p = 0, +inf where p > 0 = q
    return (torch.xlogy(p, p) - torch.xlogy(p, q)).sum(-1) * w


def js_divergence(
    p: torch.Tensor, q: torch.Tensor, dx: float | None = None
) -> torch.Tensor:
    """Jensen-Shannon divergence in nats over the last dim.

    JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2,

    symmetric, 0 iff p = q, log 2 when the supports are disjoint; ``dx`` as in
    :func:`kl_divergence`. Returns shape p.shape[:-1]. Computed as
    1/2 sum p log(2 p / (p + q)) + 1/2 sum q log(2 q / (p + q)) with the ratios taken from
    :func:`optimal_discriminator` (p / m = 2 D*), so that a tiny p whose m = (p + q) / 2 would
    underflow to 0 cannot produce a spurious +inf. Book: {eq}`gan-js`.
    """
    p, q = _check_densities(p, q, "p, q")
    w = _check_mass(p, q, dx, "p, q")
    p_over_m = 2 * optimal_discriminator(p, q)  # 2 p / (p + q)
    q_over_m = 2 * optimal_discriminator(q, p)  # 2 q / (p + q)
    return 0.5 * (torch.xlogy(p, p_over_m) + torch.xlogy(q, q_over_m)).sum(-1) * w


def value_at_optimum(
    p_data: torch.Tensor, p_g: torch.Tensor, dx: float | None = None
) -> torch.Tensor:
    """V(D*, G), the value of the game at the optimal discriminator, computed from the densities.

    V(D*, G) = sum_i [p_data,i log D*_i + p_g,i log(1 - D*_i)]  (times dx on a grid)
             = -log 4 + 2 JS(p_data || p_g)   (Theorem 1)

    computed from the first line (0 log 0 = 0), so that a test can compare it with the second.
    Over the last dim; returns shape p_data.shape[:-1]. Book: {eq}`gan-js-optimum`.
    """
    p_data, p_g = _check_densities(p_data, p_g, "p_data, p_g")
    w = _check_mass(p_data, p_g, dx, "p_data, p_g")
    d_star = optimal_discriminator(p_data, p_g)
    one_minus_d_star = optimal_discriminator(
        p_g, p_data
    )  # = p_g / (p_data + p_g), no 1 - D* rounding to 0
    # 0 log(.) = 0 where a density is 0; elsewhere the log's argument is > 0
    return (torch.xlogy(p_data, d_star) + torch.xlogy(p_g, one_minus_d_star)).sum(
        -1
    ) * w
