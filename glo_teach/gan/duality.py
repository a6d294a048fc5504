"""Kantorovich-Rubinstein duality on a discrete problem, both sides solved as linear programs.

For P = sum_i p_i delta_{x_i} and Q = sum_j q_j delta_{y_j} (points in R^d, weights summing to 1)

- the **primal** (optimal transport) LP is over couplings gamma >= 0 (n, m) with row sums p and
  column sums q:  W1 = min_gamma sum_ij gamma_ij ||x_i - y_j||;
- the **dual** LP is over the values f_k of a function on the pooled support u = (x_1..x_n,
  y_1..y_m), constrained to be 1-Lipschitz there, f_k - f_l <= ||u_k - u_l||:
  W1 = max_f sum_i p_i f(x_i) - sum_j q_j f(y_j).

Kantorovich-Rubinstein says the two optimal values are equal. A 1-Lipschitz function on the
support extends to one on all of R^d (McShane: f(x) = min_k f_k + ||x - u_k||), so the dual LP is
exactly the supremum of {eq}`wgan-kr-duality` restricted to P and Q. Both LPs are solved by
``scipy.optimize.linprog`` (HiGHS); :func:`lipschitz_on` measures how far a critic is from
being feasible for the dual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linprog

from .._validate import check_tensor

__all__ = ["KRDuality", "kr_duality", "lipschitz_on"]


@dataclass(frozen=True)
class KRDuality:
    """Both sides of the KR duality: optimal values, an optimal coupling and an optimal potential."""

    primal: float  # min over couplings of the transport cost
    dual: float  # max over 1-Lipschitz potentials on the support of E_P f - E_Q f
    plan: torch.Tensor  # (n, m) optimal coupling gamma, rows sum to p, columns to q
    potential: (
        torch.Tensor
    )  # (n + m,) optimal f on the pooled support (x_1..x_n, y_1..y_m), f(x_1) = 0


def _points(x: object, name: str) -> torch.Tensor:
    x = check_tensor(x, name)
    if x.dim() == 1:
        x = x[:, None]  # 1-D points (n,) -> (n, 1)
    if x.dim() != 2 or x.shape[0] == 0:
        raise ValueError(
            f"{name} must be n >= 1 points of shape (n,) or (n, d), got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    return x.detach().double().cpu()


def _weights(w: object, n: int, name: str) -> torch.Tensor:
    w = check_tensor(w, name).detach().double().cpu()
    if w.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},) (one weight per point), got {tuple(w.shape)}"
        )
    if (w < 0).any() or abs(w.sum().item() - 1.0) > 1e-6:
        raise ValueError(
            f"{name} must be non-negative and sum to 1, "
            f"got min {w.min().item():.3g}, sum {w.sum().item():.6g}"
        )
    return w


def kr_duality(
    x: torch.Tensor, p: torch.Tensor, y: torch.Tensor, q: torch.Tensor
) -> KRDuality:
    """Primal and dual of W1(P, Q), P = sum_i p_i delta_{x_i}, Q = sum_j q_j delta_{y_j}, by two LPs.

    primal = min_{gamma >= 0, gamma 1 = p, gamma^T 1 = q} sum_ij gamma_ij ||x_i - y_j||_2     {eq}`wgan-w1`

    dual = max_{f_k - f_l <= ||u_k - u_l||_2 for all k, l} sum_i p_i f_i - sum_j q_j f_{n+j}  {eq}`wgan-kr-duality`

    with u the pooled support (x then y) and f(x_1) = 0 fixed (the objective ignores constants, as
    the weights have equal sums). ``x`` is (n,) or (n, d), ``y`` (m,) or (m, d), ``p`` (n,), ``q``
    (m,), weights non-negative summing to 1. Computed in float64 on the CPU; O(n m) primal and
    O((n + m)^2) dual constraints, meant for tens of points. Book: {eq}`wgan-kr-lp`.
    """
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}"
        )
    n, m = x.shape[0], y.shape[0]
    p, q = _weights(p, n, "p"), _weights(q, m, "q")
    cost = torch.cdist(x, y).numpy()  # (n, m) ||x_i - y_j||

    # primal: gamma flattened row-major, gamma[i, j] -> i * m + j
    a_rows = np.kron(np.eye(n), np.ones((1, m)))  # (n, n m): sum_j gamma_ij = p_i
    a_cols = np.kron(np.ones((1, n)), np.eye(m))  # (m, n m): sum_i gamma_ij = q_j
    res_p = linprog(
        cost.ravel(),
        A_eq=np.vstack([a_rows, a_cols]),
        b_eq=np.concatenate([p.numpy(), q.numpy()]),
        bounds=(0, None),
        method="highs",
    )
    if res_p.status != 0:
        raise RuntimeError(f"primal transport LP failed: {res_p.message}")

    # dual: f on u = (x, y); one constraint f_k - f_l <= d_kl per ordered pair k != l
    u = torch.cat([x, y])  # (n + m, d)
    dist = torch.cdist(u, u).numpy()  # (n + m, n + m)
    k, l = np.nonzero(~np.eye(n + m, dtype=bool))
    a_ub = np.zeros((k.size, n + m))
    a_ub[np.arange(k.size), k] = 1.0
    a_ub[np.arange(k.size), l] = -1.0
    c = -np.concatenate([p.numpy(), -q.numpy()])  # maximise E_P f - E_Q f
    bounds = [(0.0, 0.0)] + [(None, None)] * (n + m - 1)
    res_d = linprog(c, A_ub=a_ub, b_ub=dist[k, l], bounds=bounds, method="highs")
    if res_d.status != 0:
        raise RuntimeError(f"dual (1-Lipschitz potential) LP failed: {res_d.message}")
    return KRDuality(
        primal=float(res_p.fun),
        dual=float(-res_d.fun),
        plan=torch.from_numpy(res_p.x.reshape(n, m)).clamp_min(0.0),
        potential=torch.from_numpy(res_d.x),
    )


def lipschitz_on(points: torch.Tensor, values: torch.Tensor) -> float:
    """max_{k != l} |f_k - f_l| / ||u_k - u_l||_2 over distinct points u (n,) or (n, d) with values
    f (n,): the Lipschitz constant of f restricted to the points. f / L is then feasible for the
    dual LP of :func:`kr_duality`, so (E_P f - E_Q f) / L <= W1. Book: {eq}`wgan-kr-lp`."""
    u = _points(points, "points")
    f = check_tensor(values, "values").detach().double().cpu().reshape(-1)
    if f.numel() != u.shape[0] or u.shape[0] < 2:
        raise ValueError(
            f"need >= 2 points and one value per point, got {u.shape[0]} points and {f.numel()} values"
        )
    d = torch.cdist(u, u)
    off = ~torch.eye(u.shape[0], dtype=torch.bool)
    if (d[off] <= 0).any():
        raise ValueError(
            "points must be distinct (a zero distance makes the ratio undefined)"
        )
    return ((f[:, None] - f[None, :]).abs()[off] / d[off]).max().item()
