"""train_glo: the GLO objective by SGD with projection, Book: {eq}`glo-objective`, {eq}`glo-projection`."""

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from glo_teach import DCGANGenerator, DivergenceError
from glo_teach.glo import LatentCodes, train_glo


class LinearGenerator(nn.Module):
    """g(z) = W z + b reshaped to a 1x4x4 image: GLO with it is a linear autoencoder without encoder."""

    def __init__(self, d: int):
        super().__init__()
        self.latent_dim, self.fc = d, nn.Linear(d, 16)

    def forward(self, z):
        return self.fc(z).reshape(len(z), 1, 4, 4)  # (N, d) -> (N, 16) -> (N, 1, 4, 4)


def _low_rank_images(n=128, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    basis = torch.linalg.qr(torch.randn(16, 16, generator=g))[0]
    scales = torch.tensor([1.0, 0.7, 0.5] + [0.05] * 13)
    x = (torch.randn(n, 16, generator=g) * scales) @ basis.T * 0.3 + 0.1
    return x.reshape(n, 1, 4, 4)


def test_linear_generator_recovers_the_pca_subspace():
    """pca-linear-ae: GLO with g(z) = Wz + b and l2 loss spans the top-d principal subspace (angles ~ 0)."""
    torch.manual_seed(0)
    x = _low_rank_images()
    g, codes, history = train_glo(
        LinearGenerator(3),
        x,
        3,
        loss="mse",
        lr_g=10.0,
        lr_z=10.0,
        epochs=300,
        batch_size=128,
        seed=0,
    )
    xc = (x.reshape(128, -1) - x.reshape(128, -1).mean(0)).double().numpy()
    top = np.linalg.svd(xc, full_matrices=False)[2][:3].T
    angles = scipy.linalg.subspace_angles(g.fc.weight.detach().double().numpy(), top)
    assert np.max(angles) < 0.01
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert (codes.weight.detach().norm(dim=1) <= 1 + 1e-6).all()


def _tiny_run(tmp_path=None, epochs=2, generator_cls=DCGANGenerator, **kw):
    torch.manual_seed(0)
    g = generator_cls(latent_dim=4, channels=1, size=32, width=4)
    x = torch.rand(40, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    return train_glo(
        g, x, 4, epochs=epochs, batch_size=16, seed=3, checkpoint_dir=tmp_path, **kw
    )


@pytest.mark.parametrize(
    "optimizer, init", [("sgd", "gaussian"), ("adam", "gaussian"), ("adam", "pca")]
)
def test_resume_is_bitwise_equal_to_an_uninterrupted_run(tmp_path, optimizer, init):
    """A run stopped mid-epoch (crash after step 4, checkpoint every step) and resumed ends bitwise equal.

    With Adam the optimizer's moment estimates must travel through the checkpoint as well; with PCA
    codes the resumed run skips the PCA and must still end with the codes of the uninterrupted one.
    """
    lr_g = 1.0 if optimizer == "sgd" else 1e-3
    g_ref, codes_ref, hist_ref = _tiny_run(
        loss="l2+lap1", optimizer=optimizer, lr_g=lr_g, init=init
    )

    class Crash(Exception):
        pass

    class CrashingGenerator(DCGANGenerator):
        calls = 0

        def forward(self, z):
            CrashingGenerator.calls += 1
            if (
                CrashingGenerator.calls == 5
            ):  # dies inside step 5 (mid-epoch 2: 3 steps per epoch)
                raise Crash
            return super().forward(z)

    with pytest.raises(Crash):
        _tiny_run(
            tmp_path,
            generator_cls=CrashingGenerator,
            loss="l2+lap1",
            checkpoint_every=1,
            optimizer=optimizer,
            lr_g=lr_g,
            init=init,
        )
    g, codes, hist = _tiny_run(
        tmp_path,
        loss="l2+lap1",
        checkpoint_every=1,
        optimizer=optimizer,
        lr_g=lr_g,
        init=init,
    )
    assert hist["loss"] == hist_ref["loss"] and len(hist["loss"]) == 6
    assert torch.equal(codes.weight, codes_ref.weight)
    for (name, a), (_, b) in zip(g.state_dict().items(), g_ref.state_dict().items()):
        assert torch.equal(a, b), name


def test_history_and_codes_stay_in_the_ball():
    """One epoch per history entry; every code inside the unit ball after training."""
    g, codes, hist = _tiny_run(epochs=3, lr_z=1000.0)
    assert len(hist["loss"]) == 9 and len(hist["epoch_loss"]) == 3
    assert np.isclose(hist["epoch_loss"][0], np.mean(hist["loss"][:3]))
    assert (codes.weight.detach().norm(dim=1) <= 1 + 1e-6).all()


def test_divergence_is_caught_within_one_step():
    """guard: a huge learning rate raises DivergenceError naming the learning rate, not NaN images."""
    torch.manual_seed(0)
    with pytest.raises(DivergenceError, match="lr_g=1e\\+08"):
        train_glo(
            LinearGenerator(3),
            _low_rank_images(),
            3,
            lr_g=1e8,
            lr_z=10.0,
            epochs=5,
            batch_size=64,
        )


def test_bad_inputs_raise_clear_errors():
    """Validation: latent dimension, image shape, loss and reduction names."""
    x = torch.zeros(8, 1, 32, 32)
    g = DCGANGenerator(latent_dim=4, channels=1, size=32, width=4)
    with pytest.raises(ValueError, match="latent_dim 5"):
        train_glo(g, x, 5)
    with pytest.raises(ValueError, match="generator makes"):
        train_glo(g, torch.zeros(8, 3, 32, 32), 4)
    with pytest.raises(ValueError, match="loss"):
        train_glo(g, x, 4, loss="l1")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train_glo(g, x, 4, optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        train_glo(g, torch.zeros(8, 32, 32), 4)


@pytest.mark.parametrize("z_reduction, scale", [("image", 1.0), ("batch", 0.25)])
def test_code_step_is_lr_z_times_the_per_image_or_batch_mean_gradient(
    z_reduction, scale
):
    """glo-objective, z_reduction: one step on a batch of B = 4 images with g(z) = Wz + b (lr_g = 0), against
    the hand gradient of l_i = mean_16 (W z_i + b - x_i)^2, grad_i = (2/16) W^T (W z_i + b - x_i):
    "image" moves z_i by -lr_z grad_i, "batch" by -lr_z grad_i / B (the public code's batch-mean MSE)."""
    torch.manual_seed(0)
    g = LinearGenerator(3)
    x = _low_rank_images(n=4)
    z0 = (
        LatentCodes(4, 3, init="gaussian", generator=torch.Generator().manual_seed(5))
        .weight.detach()
        .clone()
    )
    with torch.no_grad():
        W, b = g.fc.weight.clone(), g.fc.bias.clone()
    _, codes, _ = train_glo(
        g,
        x,
        3,
        lr_g=0.0,
        lr_z=0.5,
        epochs=1,
        batch_size=4,
        seed=5,
        z_reduction=z_reduction,
    )
    grad = (
        (2 / 16) * (z0 @ W.T + b - x.reshape(4, 16)) @ W
    )  # (B, d): row i is grad_{z_i} l_i
    step = z0 - 0.5 * scale * grad
    expected = step / step.norm(dim=1, keepdim=True).clamp_min(
        1.0
    )  # projection onto the unit ball
    assert (grad.norm(dim=1) > 1e-3).all()
    torch.testing.assert_close(codes.weight.detach(), expected, rtol=1e-5, atol=1e-6)


def test_max_steps_stops_after_exactly_that_many_steps_and_a_capped_run_resumes(
    tmp_path,
):
    """max_steps=k: k optimiser steps in all (history has k losses), the first k of the uncapped run, also when k
    ends inside an epoch (3 steps per epoch here); a run capped at 2 and called again with max_steps=4, then
    uncapped, continues from its checkpoint and ends bitwise equal to the uninterrupted run."""
    g_ref, codes_ref, hist_ref = _tiny_run(optimizer="adam", lr_g=1e-3)
    assert len(hist_ref["loss"]) == 6
    for k in (1, 2, 4):
        _, _, hist = _tiny_run(optimizer="adam", lr_g=1e-3, max_steps=k)
        assert hist["loss"] == hist_ref["loss"][:k]
    _, _, hist = _tiny_run(
        optimizer="adam", lr_g=1e-3, max_steps=100
    )  # a cap above the epochs' steps: no effect
    assert hist["loss"] == hist_ref["loss"]
    for cap in (2, 4, None):
        g, codes, hist = _tiny_run(tmp_path, optimizer="adam", lr_g=1e-3, max_steps=cap)
        assert hist["loss"] == hist_ref["loss"][:cap]
    assert torch.equal(codes.weight, codes_ref.weight)
    for (name, a), (_, b) in zip(g.state_dict().items(), g_ref.state_dict().items()):
        assert torch.equal(a, b), name
    for bad in (0, -1, 2.5):
        with pytest.raises((ValueError, TypeError), match="max_steps"):
            _tiny_run(max_steps=bad)
