"""seed_everything: the same seed gives bitwise identical losses and parameters on CPU, run after run."""

import torch

from glo_teach import DCGANGenerator, seed_everything
from glo_teach.data import load_dataset, ring_of_gaussians
from glo_teach.gan import MLPDiscriminator, MLPGenerator, train_gan
from glo_teach.glo import train_glo


def _glo_run(seed):
    seed_everything(seed)
    data = load_dataset("mnist", "train", n=64)
    g, codes, history = train_glo(
        DCGANGenerator(8, 1, 32, width=8),
        data,
        8,
        lr_g=0.1,
        epochs=2,
        batch_size=16,
        seed=seed,
    )
    return history["loss"], [p.detach().clone() for p in g.parameters()] + [
        codes.weight.detach().clone()
    ]


def _gan_run(seed):
    seed_everything(seed)
    ring = ring_of_gaussians()
    g, d = (
        MLPGenerator(latent_dim=2, data_dim=2, hidden=32),
        MLPDiscriminator(data_dim=2, hidden=32),
    )
    history = train_gan(
        g,
        d,
        ring.sample,
        loss="wgan-gp",
        steps=15,
        batch_size=32,
        latent_dim=2,
        seed=seed,
    )
    return history["d_loss"] + history["g_loss"], [
        p.detach().clone() for p in [*g.parameters(), *d.parameters()]
    ]


def test_same_seed_same_bits_different_seed_different_bits():
    for run in (_glo_run, _gan_run):
        (loss_a, params_a), (loss_b, params_b), (loss_c, _) = run(0), run(0), run(1)
        assert loss_a == loss_b, (
            f"{run.__name__}: losses differ between two runs with the same seed"
        )
        assert all(torch.equal(a, b) for a, b in zip(params_a, params_b)), (
            f"{run.__name__}: parameters differ"
        )
        assert loss_a != loss_c, (
            f"{run.__name__}: a different seed must give a different run"
        )
