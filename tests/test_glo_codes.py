"""LatentCodes and the projections of GLO, Book: {eq}`glo-projection` and {eq}`glo-objective`."""

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from glo_teach.glo import LatentCodes, pca_codes, project_to_ball, project_to_sphere

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(finite, min_size=3, max_size=3), min_size=1, max_size=8))
def test_project_to_ball_is_the_nearest_point_of_the_ball(rows):
    """glo-projection: z / max(||z||, 1) keeps codes inside, scales codes outside to norm 1, same direction."""
    z = torch.tensor(rows, dtype=torch.float64)
    p = project_to_ball(z)
    norms = z.norm(dim=1)
    assert (p.norm(dim=1) <= 1 + 1e-12).all()
    inside = norms <= 1
    assert torch.equal(p[inside], z[inside])
    out = ~inside
    assert torch.allclose(
        p[out].norm(dim=1), torch.ones(int(out.sum()), dtype=torch.float64), atol=1e-12
    )
    assert torch.allclose(p[out] * norms[out, None], z[out], atol=1e-9, rtol=1e-9)


def test_sphere_and_ball_differ_only_inside():
    """glo-projection: the sphere also pushes inner codes out to norm 1; the ball leaves them alone."""
    z = torch.tensor([[0.3, 0.4], [3.0, 4.0]])
    assert torch.allclose(
        project_to_ball(z), torch.tensor([[0.3, 0.4], [0.6, 0.8]]), atol=1e-7
    )
    assert torch.allclose(
        project_to_sphere(z), torch.tensor([[0.6, 0.8], [0.6, 0.8]]), atol=1e-7
    )


def test_sgd_step_changes_only_the_batch_codes():
    """glo-projection: one step z_i <- P(z_i - lr g_i) for i in the batch; every other row bit-identical."""
    torch.manual_seed(0)
    codes = LatentCodes(50, 4)
    before = codes.weight.detach().clone()
    idx = torch.tensor([3, 17, 41])
    grad = torch.randn(3, 4)
    codes.sgd_step(idx, grad, lr=0.5)
    others = torch.ones(50, dtype=torch.bool)
    others[idx] = False
    assert torch.equal(codes.weight[others], before[others])
    expected = project_to_ball(before[idx] - 0.5 * grad)
    assert torch.allclose(codes.weight[idx], expected, atol=1e-7)
    assert not torch.allclose(codes.weight[idx], before[idx])


def test_sgd_step_sums_gradients_of_a_repeated_index():
    """A code that appears twice in a batch gets the sum of its gradients, as a dense parameter would."""
    codes = LatentCodes(5, 2, projection="ball")
    with torch.no_grad():
        codes.weight.zero_()
    codes.sgd_step(torch.tensor([1, 1]), torch.tensor([[0.1, 0.0], [0.2, 0.0]]), lr=1.0)
    assert torch.allclose(codes.weight[1], torch.tensor([-0.3, 0.0]), atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000), st.floats(1e-3, 1e4), st.sampled_from(["ball", "sphere"])
)
def test_codes_never_leave_the_unit_ball(seed, lr, projection):
    """glo-projection: after any number of steps with any gradient, ||z_i|| <= 1 for every code."""
    g = torch.Generator().manual_seed(seed)
    codes = LatentCodes(20, 3, projection=projection, generator=g)
    for _ in range(20):
        idx = torch.randint(0, 20, (6,), generator=g)
        codes.sgd_step(idx, 10 * torch.randn(6, 3, generator=g), lr=lr)
    norms = codes.weight.detach().norm(dim=1)
    assert (norms <= 1 + 1e-6).all()
    if projection == "sphere":
        assert torch.allclose(norms, torch.ones(20), atol=1e-6)


def test_gaussian_init_is_projected():
    """Gaussian init: N(0, I_d) then z / max(||z||, 1); in d = 16 every code lands on the sphere."""
    codes = LatentCodes(200, 16, generator=torch.Generator().manual_seed(1))
    raw = torch.randn(200, 16, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(codes.weight.detach(), project_to_ball(raw), atol=1e-7)
    assert torch.allclose(codes.weight.detach().norm(dim=1), torch.ones(200), atol=1e-6)


def test_pca_init_spans_the_principal_subspace_and_fits_the_ball():
    """pca-linear-ae: codes are PCA coefficients (oracle: numpy SVD) divided by the largest norm."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(64, 1, 4, 4)) * np.linspace(2, 0.1, 16).reshape(1, 1, 4, 4)
    x = torch.tensor(data, dtype=torch.float32)
    codes = LatentCodes(64, 3, init="pca", data=x)
    z = codes.weight.detach().double().numpy()
    xc = data.reshape(64, -1) - data.reshape(64, -1).mean(0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    coeff = xc @ vt[:3].T  # PCA coefficients, up to the sign of each column
    assert abs(np.linalg.norm(z, axis=1).max() - 1.0) < 1e-5
    scale = np.linalg.norm(coeff, axis=1).max()
    assert np.allclose(np.abs(z), np.abs(coeff) / scale, atol=1e-5)
    assert np.max(scipy.linalg.subspace_angles(z, u[:, :3])) < 1e-4
    assert torch.allclose(pca_codes(x, 3), codes.weight.detach(), atol=1e-6)


def test_bad_inputs_raise_clear_errors():
    """Validation: wrong init, dims, data and indices are ValueError/TypeError."""
    with pytest.raises(ValueError, match="init"):
        LatentCodes(4, 2, init="uniform")
    with pytest.raises(ValueError, match="n = 4"):
        LatentCodes(4, 2, init="pca", data=torch.zeros(3, 1, 2, 2))
    with pytest.raises(ValueError, match="projection"):
        LatentCodes(4, 2, projection="cube")
    codes = LatentCodes(4, 2)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        codes(torch.tensor([4]))
    with pytest.raises(TypeError, match="integer"):
        codes(torch.tensor([0.5]))
    with pytest.raises(ValueError, match="latent dimension 2"):
        codes.sgd_step(torch.tensor([0]), torch.zeros(1, 3), 1.0)
