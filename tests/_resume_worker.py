"""Run one small training to the end, resuming from ``CKPT`` if a checkpoint is there.

    python tests/_resume_worker.py {glo,gan,vae} CKPT OUT

Writes every final parameter (and GLO's codes) to OUT with torch.save. Used by
tests/test_crash_resume.py, which SIGKILLs this process at random moments and restarts it.
"""

import sys

import torch

from glo_teach import DCGANDiscriminator, DCGANGenerator, seed_everything
from glo_teach.data import load_dataset

torch.set_num_threads(1)
kind, ckpt, out = sys.argv[1:4]
seed_everything(0)  # the networks' initial weights
data = load_dataset("mnist", "train", n=96)
if kind == "glo":
    from glo_teach.glo import train_glo

    g, codes, _ = train_glo(
        DCGANGenerator(8, 1, 32, width=8),
        data,
        8,
        lr_g=0.5,
        lr_z=5.0,
        epochs=20,
        batch_size=16,
        checkpoint_dir=ckpt,
        checkpoint_every=1,
    )
    state = {**g.state_dict(), "codes": codes.weight.detach()}
elif kind == "gan":
    from glo_teach.gan import train_gan

    g, d = DCGANGenerator(8, 1, 32, width=8), DCGANDiscriminator(1, 32, width=8)
    train_gan(
        g,
        d,
        data,
        steps=100,
        batch_size=16,
        latent_dim=8,
        checkpoint_dir=ckpt,
        checkpoint_every=1,
    )
    state = {
        **{f"g.{k}": v for k, v in g.state_dict().items()},
        **{f"d.{k}": v for k, v in d.state_dict().items()},
    }
elif kind == "vae":
    from glo_teach.vae import VAE, train_vae

    vae, _ = train_vae(
        VAE(latent_dim=8, channels=1, size=32, width=8),
        data,
        epochs=20,
        batch_size=16,
        checkpoint_dir=ckpt,
        checkpoint_every=1,
    )
    state = vae.state_dict()
else:
    raise SystemExit(f"unknown kind {kind!r}")
torch.save(state, out)
