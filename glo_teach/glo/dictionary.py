"""GLO as nonlinear dictionary learning: sparse synthetic signals and an atom-recovery score.

Dictionary learning (Olshausen & Field 1996; Mairal et al. 2009) fits a linear dictionary D
(P, K) with unit-norm atoms and one sparse code r_i per signal,

    min_{D, r} (1/N) sum_i ||x_i - D r_i||_2^2 + alpha ||r_i||_1,    ||D_k||_2 <= 1.

GLO's objective is this problem with the dictionary D replaced by the generator g_theta, the
sparse code r_i by a code z_i in the unit ball, and no sparsity term. With a linear g and no
sparsity term the reconstruction only fixes the span of the dictionary (D A with codes A^{-1} r
fits as well for any invertible A), so the atoms themselves are not identified; the l1 term is
what pins them down. :func:`sparse_dictionary_data` draws signals with known atoms, and
:func:`atom_recovery` scores how well a learned dictionary finds them.
"""

from __future__ import annotations

import torch

from .._validate import check_positive_int, check_tensor

__all__ = ["sparse_dictionary_data", "atom_recovery"]


def sparse_dictionary_data(
    n: int,
    dim: int,
    n_atoms: int,
    n_active: int,
    scale: float = 1.0,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Signals x_i = scale * D r_i + noise * e_i with known atoms: (X (n, dim), D (dim, n_atoms), R (n, n_atoms)).

    D has i.i.d. Gaussian columns normalised to unit l2 norm; each row of R has exactly ``n_active``
    non-zero entries, at random positions, with magnitudes U[0.5, 1] and random signs; e_i ~ N(0, I).
    float64. Book: {eq}`glo-dictionary-learning`.
    """
    for name, v in (
        ("n", n),
        ("dim", dim),
        ("n_atoms", n_atoms),
        ("n_active", n_active),
    ):
        check_positive_int(v, name)
    if n_active > n_atoms:
        raise ValueError(
            f"n_active must be at most n_atoms = {n_atoms}, got {n_active}"
        )
    if not (scale > 0 and noise >= 0):
        raise ValueError(
            f"scale must be > 0 and noise >= 0, got scale={scale!r}, noise={noise!r}"
        )
    D = torch.randn(dim, n_atoms, generator=generator, dtype=torch.float64)
    D = D / D.norm(dim=0, keepdim=True)  # unit-norm atoms (columns)
    where = torch.rand(n, n_atoms, generator=generator).argsort(dim=1)[
        :, :n_active
    ]  # (n, n_active) distinct positions
    size = 0.5 + 0.5 * torch.rand(n, n_active, generator=generator, dtype=torch.float64)
    sign = torch.where(
        torch.rand(n, n_active, generator=generator) < 0.5, -1.0, 1.0
    ).double()
    R = torch.zeros(n, n_atoms, dtype=torch.float64).scatter_(1, where, size * sign)
    X = scale * R @ D.T + noise * torch.randn(
        n, dim, generator=generator, dtype=torch.float64
    )  # (n, dim)
    return X, D, R


def atom_recovery(true_atoms: torch.Tensor, learned_atoms: torch.Tensor) -> float:
    """Mean over the true atoms (columns of ``true_atoms``, (P, K)) of the best |cosine| with any
    learned atom (columns of ``learned_atoms``, (P, K')):

        score = (1/K) sum_k max_j |<d_k, d'_j>| / (||d_k|| ||d'_j||)   in [0, 1].

    1 when every true atom is found up to sign and scale (any order); invariant to permuting,
    flipping and rescaling the learned atoms. Book: {eq}`glo-atom-recovery`.
    """
    A, B = (
        check_tensor(true_atoms, "true_atoms"),
        check_tensor(learned_atoms, "learned_atoms"),
    )
    if A.dim() != 2 or B.dim() != 2 or A.shape[0] != B.shape[0]:
        raise ValueError(
            f"true_atoms and learned_atoms must be (P, K) and (P, K') with the same P, got "
            f"{tuple(A.shape)} and {tuple(B.shape)}"
        )
    A, B = A.detach().double().cpu(), B.detach().double().cpu()
    na, nb = A.norm(dim=0), B.norm(dim=0)
    if (na == 0).any() or (nb == 0).any():
        raise ValueError(
            "atoms must be non-zero columns (a zero atom has no direction)"
        )
    cos = (A / na).T @ (B / nb)  # (K, K')
    return cos.abs().max(dim=1).values.mean().item()
