"""VAE: the Gaussian KL, the reparameterisation trick, the ELBO as a bound, and the training loop."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

from glo_teach.data import ImageDataset
from glo_teach.guard import DivergenceError
import glo_teach.vae.train as train_module
from glo_teach.vae import (
    VAE,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_likelihood,
    reparameterize,
    train_vae,
)


def test_gaussian_kl_matches_torch_distributions():
    """Eq. vae-gaussian-kl: 1/2 sum_j (mu^2 + sigma^2 - 1 - log sigma^2) = KL(N(mu, sigma^2) || N(0, 1)) summed."""
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 5, generator=g, dtype=torch.float64) * 2
    logvar = torch.randn(7, 5, generator=g, dtype=torch.float64) * 1.5
    expected = kl_divergence(
        Normal(mu, (0.5 * logvar).exp()),
        Normal(torch.zeros_like(mu), torch.ones_like(mu)),
    ).sum(1)
    got = gaussian_kl(mu, logvar)
    assert got.shape == (7,)
    assert torch.allclose(got, expected, atol=1e-12, rtol=0)
    assert torch.allclose(
        gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)),
        torch.zeros(3),
        atol=0,
        rtol=0,
    )


def test_reparameterize_moments_and_gradients():
    """Eq. vae-reparam: z = mu + exp(logvar/2) eps has mean mu and variance exp(logvar); dz/dmu = 1, dz/dlogvar = eps sigma / 2."""
    g = torch.Generator().manual_seed(1)
    n = 200_000
    mu0, logvar0 = torch.tensor([[1.5, -0.5]]), torch.tensor([[0.4, -1.2]])
    z = reparameterize(mu0.expand(n, 2), logvar0.expand(n, 2), generator=g)
    se_mean = (logvar0.exp() / n).sqrt()  # standard error of the sample mean
    assert ((z.mean(0) - mu0[0]).abs() < 5 * se_mean[0]).all()
    var = z.var(0)
    se_var = logvar0.exp()[0] * math.sqrt(2 / n)
    assert ((var - logvar0.exp()[0]).abs() < 5 * se_var).all()

    mu = mu0.clone().requires_grad_()
    logvar = logvar0.clone().requires_grad_()
    g2 = torch.Generator().manual_seed(2)
    z = reparameterize(mu, logvar, generator=g2)
    z.sum().backward()
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(mu.grad, torch.ones(1, 2), atol=0, rtol=0)
    assert torch.allclose(
        logvar.grad, 0.5 * eps * (0.5 * logvar0).exp(), atol=1e-6, rtol=0
    )


def test_bernoulli_log_likelihood_matches_torch():
    """Eq. vae-bernoulli: sum_i log Bernoulli(t_i; sigmoid(l_i)) with t = (x + 1) / 2, for binary images."""
    g = torch.Generator().manual_seed(3)
    x = (
        torch.randint(0, 2, (4, 1, 32, 32), generator=g).float() * 2 - 1
    )  # binary images in {-1, 1}
    logits = torch.randn(4, 1, 32, 32, generator=g) * 3
    expected = Bernoulli(logits=logits).log_prob((x + 1) / 2).flatten(1).sum(1)
    got = bernoulli_log_likelihood(x, logits)
    assert got.shape == (4,)
    assert torch.allclose(got, expected, atol=1e-3, rtol=1e-6)


def test_gaussian_log_likelihood_matches_torch():
    """Eq. vae-gaussian-likelihood: log N(x; m, sigma^2 I) with the normalising constant, summed over pixels."""
    g = torch.Generator().manual_seed(4)
    x = torch.rand(3, 2, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    m = torch.rand(3, 2, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    expected = Normal(m, 0.3).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(
        gaussian_log_likelihood(x, m, 0.3), expected, atol=1e-10, rtol=0
    )


def _linear_gaussian(d=3, D=5, sigma=0.5):
    """p(z) = N(0, I), p(x|z) = N(W z + b, sigma^2 I): log p(x) = log N(x; b, W W^T + sigma^2 I) exactly."""
    g = torch.Generator().manual_seed(5)
    W = torch.randn(D, d, generator=g, dtype=torch.float64)
    b = torch.randn(D, generator=g, dtype=torch.float64)
    x = torch.randn(4, D, generator=g, dtype=torch.float64) * 2
    log_px = MultivariateNormal(
        b, W @ W.T + sigma**2 * torch.eye(D, dtype=torch.float64)
    ).log_prob(x)  # (4,)
    # the true posterior p(z|x) = N(S W^T (x - b) / sigma^2, S) with S = (I + W^T W / sigma^2)^-1
    S = torch.linalg.inv(torch.eye(d, dtype=torch.float64) + W.T @ W / sigma**2)
    mu_post = (x - b) @ W @ S / sigma**2  # (4, d)
    return W, b, x, log_px, mu_post, S


def _expected_elbo(x, W, b, mu, logvar, sigma):
    """E_q[ELBO] in closed form: elbo at the decoder mean W mu + b, minus tr(W Sigma_q W^T) / (2 sigma^2)."""
    mean = (mu @ W.T + b)[
        :, :, None, None
    ]  # (N, D) -> (N, D, 1, 1): a D-channel 1x1 "image"
    trace = ((W**2) @ logvar.exp().T).sum(0)  # tr(W diag(s^2) W^T) per sample, (N,)
    return elbo(x[:, :, None, None], mean, mu, logvar, "gaussian", sigma) - trace / (
        2 * sigma**2
    )


def test_elbo_is_a_lower_bound_with_equality_at_the_true_posterior():
    """Eq. vae-elbo: ELBO(q) <= log p(x) on a linear-Gaussian model; equality when q = p(z|x) (diagonal here)."""
    sigma = 0.5
    W, b, x, log_px, mu_post, S = _linear_gaussian(sigma=sigma)
    # make the posterior covariance diagonal so that the diagonal-Gaussian encoder can equal it:
    # orthogonal columns of W give W^T W diagonal, hence S diagonal
    Q, _ = torch.linalg.qr(W)
    W = Q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    log_px = MultivariateNormal(
        b, W @ W.T + sigma**2 * torch.eye(5, dtype=torch.float64)
    ).log_prob(x)
    S = torch.linalg.inv(torch.eye(3, dtype=torch.float64) + W.T @ W / sigma**2)
    assert torch.allclose(S, torch.diag(torch.diagonal(S)), atol=1e-12)
    mu_post = (x - b) @ W @ S / sigma**2
    logvar_post = torch.diagonal(S).log().expand_as(mu_post)

    at_posterior = _expected_elbo(x, W, b, mu_post, logvar_post, sigma)
    assert torch.allclose(at_posterior, log_px, atol=1e-9, rtol=0)

    g = torch.Generator().manual_seed(6)
    for _ in range(20):  # any other q is strictly below
        mu = mu_post + torch.randn(mu_post.shape, generator=g, dtype=torch.float64)
        logvar = logvar_post + torch.randn(
            mu_post.shape, generator=g, dtype=torch.float64
        )
        gap = log_px - _expected_elbo(x, W, b, mu, logvar, sigma)
        assert (gap > 1e-6).all()


def test_one_sample_elbo_is_unbiased():
    """Eq. vae-elbo: the mean of the one-sample elbo over many eps equals the closed-form expectation (<= log p(x))."""
    sigma = 0.5
    W, b, x, log_px, mu_post, S = _linear_gaussian(sigma=sigma)
    x1 = x[:1]
    mu, logvar = (
        mu_post[:1] + 0.3,
        torch.full((1, 3), -1.0, dtype=torch.float64),
    )  # a q that is not the posterior
    n = 100_000
    z = reparameterize(
        mu.expand(n, 3), logvar.expand(n, 3), generator=torch.Generator().manual_seed(7)
    )
    samples = elbo(
        x1.expand(n, 5)[:, :, None, None],
        (z @ W.T + b)[:, :, None, None],
        mu.expand(n, 3),
        logvar.expand(n, 3),
        "gaussian",
        sigma,
    )
    se = samples.std() / math.sqrt(n)
    closed = _expected_elbo(x1, W, b, mu, logvar, sigma)
    assert abs(samples.mean() - closed[0]) < 5 * se
    assert closed[0] < log_px[0]


def test_vae_shapes_and_bernoulli_logits_match_tanh_output():
    """Bernoulli logits 2a give mean sigmoid(2a) = (tanh(a) + 1) / 2: the decoder's image mapped to [0, 1]."""
    torch.manual_seed(0)
    vae = VAE(latent_dim=4, channels=1, size=32, width=8).eval()
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    mu, logvar = vae.encode(x)
    assert mu.shape == (3, 4) and logvar.shape == (3, 4)
    logits = vae.decoder_output(mu, "bernoulli")
    assert torch.allclose(
        torch.sigmoid(logits), (vae.decode(mu) + 1) / 2, atol=1e-6, rtol=0
    )
    out, mu2, _ = vae(x, "gaussian")
    assert out.shape == x.shape and torch.allclose(mu, mu2)
    with pytest.raises(ValueError, match="channel"):
        vae.encode(torch.zeros(3, 3, 32, 32))


def test_elbo_input_validation():
    with pytest.raises(ValueError, match="likelihood"):
        elbo(
            torch.zeros(2, 1, 4, 4),
            torch.zeros(2, 1, 4, 4),
            torch.zeros(2, 3),
            torch.zeros(2, 3),
            "poisson",
        )
    with pytest.raises(ValueError, match="batch size"):
        elbo(
            torch.zeros(2, 1, 4, 4),
            torch.zeros(2, 1, 4, 4),
            torch.zeros(3, 3),
            torch.zeros(3, 3),
        )
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        bernoulli_log_likelihood(torch.full((1, 1, 4, 4), 3.0), torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError):
        gaussian_kl([0.0], torch.zeros(1, 1))


def _tiny(seed=0):
    """A small VAE initialised from ``seed`` and a fixed data set of 48 random images."""
    torch.manual_seed(seed)
    images = (
        torch.rand(48, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    )
    return VAE(latent_dim=4, channels=1, size=32, width=4), ImageDataset(images)


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_resume_is_bitwise_exact(tmp_path, monkeypatch, likelihood):
    """A run killed mid-epoch (step 5 of 12, last checkpoint at 4) and resumed ends bitwise equal to an uninterrupted one."""
    kw = dict(
        epochs=4,
        batch_size=16,
        lr=1e-3,
        likelihood=likelihood,
        seed=3,
        checkpoint_every=2,
    )  # 3 steps/epoch
    vae_a, hist_a = train_vae(*_tiny(), **kw)

    real_check_finite = train_module.check_finite

    def crash_at_step_5(step, *args, **kwargs):
        if step == 5:
            raise KeyboardInterrupt("killed")
        return real_check_finite(step, *args, **kwargs)

    monkeypatch.setattr(train_module, "check_finite", crash_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_vae(*_tiny(), checkpoint_dir=tmp_path, **kw)
    monkeypatch.undo()
    torch.manual_seed(1234)  # the global RNG state is restored from the checkpoint too
    vae_c, hist_c = train_vae(
        *_tiny(seed=99), checkpoint_dir=tmp_path, **kw
    )  # a fresh call resumes at step 4
    assert len(hist_c["loss"]) == 12
    assert hist_a == hist_c
    for (name, p), q in zip(vae_a.state_dict().items(), vae_c.state_dict().values()):
        assert torch.equal(p, q), name
    vae_d, _ = train_vae(
        *_tiny(), **{**kw, "seed": 4}
    )  # another seed gives another run: the test can fail
    assert not torch.equal(
        vae_a.state_dict()["head.weight"], vae_d.state_dict()["head.weight"]
    )


def test_huge_learning_rate_raises_divergence_error():
    """The guard stops a run within one step when Adam's step explodes the weights."""
    with pytest.raises(DivergenceError, match="learning rate"):
        train_vae(*_tiny(), epochs=1, batch_size=16, lr=1e6)


def test_max_steps_stops_after_exactly_that_many_steps_and_a_capped_run_resumes(
    tmp_path,
):
    """max_steps=k: k Adam steps (k losses in the history), the first k of the uncapped run (3 steps per epoch,
    so 5 ends inside the second); a run capped at 5 and called again uncapped ends bitwise equal to one run."""
    kw = dict(epochs=4, batch_size=16, lr=1e-3, seed=3)
    vae_a, hist_a = train_vae(*_tiny(), **kw)
    assert len(hist_a["loss"]) == 12
    _, hist_5 = train_vae(*_tiny(), max_steps=5, **kw)
    assert hist_5 == {key: v[:5] for key, v in hist_a.items()}
    _, hist_capped = train_vae(*_tiny(), checkpoint_dir=tmp_path, max_steps=5, **kw)
    assert len(hist_capped["loss"]) == 5
    vae_c, hist_c = train_vae(
        *_tiny(seed=99), checkpoint_dir=tmp_path, **kw
    )  # resumes at step 5
    assert hist_c == hist_a
    for (name, p), q in zip(vae_a.state_dict().items(), vae_c.state_dict().values()):
        assert torch.equal(p, q), name
    for bad in (0, -3, 1.5):
        with pytest.raises((ValueError, TypeError), match="max_steps"):
            train_vae(*_tiny(), max_steps=bad, **kw)
