"""GLO as dictionary learning: synthetic sparse signals and the atom-recovery score (chapter 7,
glo-dictionary-learning and glo-atom-recovery)."""

import math

import pytest
import torch

from glo_teach.glo import atom_recovery, sparse_dictionary_data


def test_sparse_dictionary_data_is_what_it_says():
    """glo-dictionary-learning: unit-norm atoms; exactly n_active non-zeros of magnitude in [0.5, 1] per
    code; X = scale * R D^T exactly without noise, and the noise has the requested scale."""
    g = torch.Generator().manual_seed(0)
    X, D, R = sparse_dictionary_data(400, 16, 8, 3, scale=0.3, generator=g)
    assert X.shape == (400, 16) and D.shape == (16, 8) and R.shape == (400, 8)
    assert torch.allclose(D.norm(dim=0), torch.ones(8, dtype=torch.float64))
    assert ((R != 0).sum(dim=1) == 3).all()
    nz = R[R != 0].abs()
    assert nz.min() >= 0.5 and nz.max() <= 1.0
    assert (R > 0).any() and (R < 0).any()
    assert torch.allclose(X, 0.3 * R @ D.T, atol=1e-15)
    X2, D2, R2 = sparse_dictionary_data(
        4000,
        16,
        8,
        3,
        scale=0.3,
        noise=0.05,
        generator=torch.Generator().manual_seed(0),
    )
    assert (X2 - 0.3 * R2 @ D2.T).std().item() == pytest.approx(0.05, rel=0.02)
    again = sparse_dictionary_data(
        400, 16, 8, 3, scale=0.3, generator=torch.Generator().manual_seed(0)
    )
    assert all(torch.equal(a, b) for a, b in zip((X, D, R), again))


def test_atom_recovery_hand_cases():
    """glo-atom-recovery by hand: the 45-degree rotation of (e1, e2) scores cos 45 = 0.7071 for each atom;
    a dictionary that finds e1 twice and misses e2 scores (1 + 0) / 2; orthogonal atoms score 0."""
    e = torch.eye(3, dtype=torch.float64)
    true = e[:, :2]
    rotated = torch.stack([e[0] + e[1], e[0] - e[1]], 1)  # unnormalised on purpose
    assert atom_recovery(true, rotated) == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    assert atom_recovery(5 * true, rotated) == pytest.approx(
        1 / math.sqrt(2), abs=1e-12
    )  # scale of the true atoms too
    assert atom_recovery(true, torch.stack([e[0], 3 * e[0]], 1)) == pytest.approx(
        0.5, abs=1e-12
    )
    assert atom_recovery(true, e[:, 2:]) == pytest.approx(0.0, abs=1e-12)


def test_atom_recovery_ignores_order_sign_and_scale():
    """The score is 1 for the true atoms permuted, sign-flipped and rescaled, and below 1 for a generic
    basis of the same span (the span alone does not identify the atoms)."""
    g = torch.Generator().manual_seed(1)
    _, D, _ = sparse_dictionary_data(10, 16, 6, 2, generator=g)
    perm = torch.randperm(6, generator=g)
    signs_scales = torch.tensor([-2.0, 0.5, 1.0, -1.0, 3.0, -0.1], dtype=torch.float64)
    assert atom_recovery(D, D[:, perm] * signs_scales) == pytest.approx(1.0, abs=1e-12)
    mixed = (
        D @ torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))[0]
    )  # same span, rotated
    assert atom_recovery(D, mixed) < 0.9


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="n_active"):
        sparse_dictionary_data(10, 4, 3, 5)
    with pytest.raises(ValueError, match="positive int"):
        sparse_dictionary_data(0, 4, 3, 1)
    with pytest.raises(ValueError, match="same P"):
        atom_recovery(torch.ones(4, 2), torch.ones(5, 2))
    with pytest.raises(ValueError, match="non-zero"):
        atom_recovery(torch.ones(4, 2), torch.zeros(4, 2))
    with pytest.raises(TypeError):
        atom_recovery([[1.0]], torch.ones(1, 1))
