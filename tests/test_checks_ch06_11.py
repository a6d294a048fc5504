"""The checks of chapters 6-11's problem sets: each passes the library's reference (or an independent
student-style solution), reports a stub as not implemented, and names each plausible mistake
(written here as a student would write it, not copied from the check)."""

import pytest
import torch
import torch.nn.functional as F

from glo_teach import checks
from glo_teach.gan import latent_optimise
from glo_teach.glo import arithmetic, interpolate, mardia_skewness_kurtosis, reconstruct
from glo_teach.glo.pyramid import blur
from glo_teach.metrics import laplacian_variance

F64 = torch.float64


def _fit(z):
    mu = z.mean(0)
    return mu, (z - mu).T @ (z - mu) / len(z)


def _sample(mu, sigma, n):
    return mu + torch.randn(n, len(mu), dtype=mu.dtype) @ torch.linalg.cholesky(sigma).T


def _gd(z, G, D, alpha):
    return latent_optimise(
        z, G, D, method="gd", alpha=alpha, prior="uniform", create_graph=False
    )[0]


def _ngd(z, G, D, alpha, beta):
    return latent_optimise(
        z,
        G,
        D,
        method="ngd",
        alpha=alpha,
        beta=beta,
        prior="uniform",
        create_graph=False,
    )[0]


def _mardia(z):
    r = mardia_skewness_kurtosis(z)
    return r["b1"], r["b2"]


REFERENCES_E2 = {
    "check_pyramid_reconstruct": reconstruct,
    "check_fit_gaussian": _fit,
    "check_gaussian_sampling": _sample,
    "check_interpolate": interpolate,
    "check_arithmetic": arithmetic,
    "check_latent_gd_step": _gd,
    "check_latent_ngd_step": _ngd,
    "check_mardia": _mardia,
    "check_laplacian_variance": laplacian_variance,
}


@pytest.mark.parametrize("name", sorted(REFERENCES_E2))
def test_check_passes_on_the_reference(name, capsys):
    result = getattr(checks, name)(REFERENCES_E2[name])
    assert result.passed, result.message
    assert capsys.readouterr().out.startswith("\u2705 PASSED " + name)


@pytest.mark.parametrize("name", sorted(REFERENCES_E2))
def test_check_reports_a_stub_as_not_implemented(name):
    def stub(*args):
        raise NotImplementedError

    result = getattr(checks, name)(stub, verbose=False)
    assert not result.passed and result.message.startswith("not implemented yet")


def _msg(check, fn):
    result = check(fn, verbose=False)
    assert not result.passed
    return result.message


# --- independent student solutions pass -------------------------------------------------------------


def _grad(z, G, D):
    z = z.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(D(G(z)).sum(), z)
    return g


def test_independent_student_solutions_pass():
    def student_reconstruct(
        pyr,
    ):  # with the library's blur: insert zeros, blur with gain 4
        x = pyr[-1]
        for detail in pyr[-2::-1]:
            up = torch.zeros(
                *x.shape[:2], 2 * x.shape[2], 2 * x.shape[3], dtype=x.dtype
            )
            up[..., ::2, ::2] = x
            x = detail + 4 * blur(up)
        return x

    def student_sample(mu, sigma, n):
        return torch.distributions.MultivariateNormal(
            mu, covariance_matrix=sigma
        ).sample((n,))

    def student_ngd(z, G, D, a, b):
        g = _grad(z, G, D)
        return (z + a * g / (b + (g * g).sum(1, keepdim=True))).clamp(-1, 1)

    def student_mardia(z):
        zc = z - z.mean(0)
        m = zc @ torch.linalg.inv(torch.cov(zc.T, correction=0)) @ zc.T
        return (m**3).sum() / len(z) ** 2, (m.diagonal() ** 2).mean()

    def student_lapvar(x):
        lap = (
            x[..., :-2, 1:-1]
            + x[..., 2:, 1:-1]
            + x[..., 1:-1, :-2]
            + x[..., 1:-1, 2:]
            - 4 * x[..., 1:-1, 1:-1]
        )
        return lap.flatten(1).var(1, unbiased=False)

    def student_interp(a, b, steps):
        return torch.stack([a + s / (steps - 1) * (b - a) for s in range(steps)])

    for check, fn in [
        (checks.check_pyramid_reconstruct, student_reconstruct),
        (checks.check_gaussian_sampling, student_sample),
        (checks.check_latent_ngd_step, student_ngd),
        (checks.check_mardia, student_mardia),
        (checks.check_laplacian_variance, student_lapvar),
        (checks.check_interpolate, student_interp),
        (
            checks.check_latent_gd_step,
            lambda z, G, D, a: (z + a * _grad(z, G, D)).clamp(-1, 1),
        ),
    ]:
        assert check(fn, verbose=False).passed, check.__name__


# --- named mistakes ---------------------------------------------------------------------------------


def test_pyramid_reconstruct_mistakes():
    def nearest(pyr):
        x = pyr[-1]
        for d in pyr[-2::-1]:
            x = d + F.interpolate(x, scale_factor=2)
        return x

    def no_gain(pyr):
        x = pyr[-1]
        for d in pyr[-2::-1]:
            up = torch.zeros(
                *x.shape[:2], 2 * x.shape[2], 2 * x.shape[3], dtype=x.dtype
            )
            up[..., ::2, ::2] = x
            x = d + blur(up)
        return x

    assert "repeating pixels" in _msg(checks.check_pyramid_reconstruct, nearest)
    assert "gain 4" in _msg(checks.check_pyramid_reconstruct, no_gain)
    assert "residual" in _msg(
        checks.check_pyramid_reconstruct,
        lambda pyr: reconstruct([*pyr[:-1], 0 * pyr[-1]]),
    )


def test_fit_gaussian_mistakes():
    assert "n - 1" in _msg(
        checks.check_fit_gaussian, lambda z: (z.mean(0), torch.cov(z.T))
    )
    assert "centred" in _msg(
        checks.check_fit_gaussian, lambda z: (z.mean(0), z.T @ z / len(z))
    )
    assert "off-diagonal" in _msg(
        checks.check_fit_gaussian,
        lambda z: (z.mean(0), torch.diag(z.var(0, unbiased=False))),
    )
    assert "(d, d)" in _msg(
        checks.check_fit_gaussian,
        lambda z: (z.mean(0), (z - z.mean(0)) @ (z - z.mean(0)).T / len(z)),
    )
    assert "pair" in _msg(checks.check_fit_gaussian, lambda z: z.mean(0))


def test_gaussian_sampling_mistakes():
    assert "Sigma^2" in _msg(
        checks.check_gaussian_sampling,
        lambda mu, s, n: mu + torch.randn(n, len(mu), dtype=mu.dtype) @ s,
    )
    assert "wrong side" in _msg(
        checks.check_gaussian_sampling,
        lambda mu, s, n: (
            mu + torch.randn(n, len(mu), dtype=mu.dtype) @ torch.linalg.cholesky(s)
        ),
    )
    assert "independently" in _msg(
        checks.check_gaussian_sampling,
        lambda mu, s, n: (
            mu + torch.randn(n, len(mu), dtype=mu.dtype) * s.diagonal().sqrt()
        ),
    )
    assert "add mu" in _msg(
        checks.check_gaussian_sampling, lambda mu, s, n: _sample(mu, s, n) - mu
    )
    assert "all samples are equal" in _msg(
        checks.check_gaussian_sampling, lambda mu, s, n: _sample(mu, s, 1).expand(n, -1)
    )


def test_interpolate_mistakes():
    ts = lambda a, steps: torch.arange(steps, dtype=a.dtype).view(-1, *[1] * a.dim())  # noqa: E731
    assert "from z_b to z_a" in _msg(
        checks.check_interpolate, lambda a, b, s: interpolate(b, a, s)
    )
    assert "inclusive" in _msg(
        checks.check_interpolate, lambda a, b, s: a + ts(a, s) / s * (b - a)
    )
    assert "skip the endpoints" in _msg(
        checks.check_interpolate, lambda a, b, s: a + (ts(a, s) + 1) / (s + 1) * (b - a)
    )


def test_arithmetic_mistakes():
    assert "not sums" in _msg(
        checks.check_arithmetic, lambda a, b, c: a.sum(0) - b.sum(0) + c.sum(0)
    )
    assert "A - B - C" in _msg(
        checks.check_arithmetic, lambda a, b, c: a.mean(0) - b.mean(0) - c.mean(0)
    )
    assert "A + B - C" in _msg(
        checks.check_arithmetic, lambda a, b, c: a.mean(0) + b.mean(0) - c.mean(0)
    )
    assert "pooled" in _msg(
        checks.check_arithmetic, lambda a, b, c: torch.cat([a, -b, c]).mean(0)
    )


def test_latent_gd_step_mistakes():
    assert "descends" in _msg(
        checks.check_latent_gd_step,
        lambda z, G, D, a: (z - a * _grad(z, G, D)).clamp(-1, 1),
    )
    assert "clip it to [-1, 1]" in _msg(
        checks.check_latent_gd_step, lambda z, G, D, a: z + a * _grad(z, G, D)
    )

    def mean_grad(z, G, D, a):
        z = z.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(D(G(z)).mean(), z)
        return (z + a * g).clamp(-1, 1).detach()

    assert "batch *mean*" in _msg(checks.check_latent_gd_step, mean_grad)


def test_latent_ngd_step_mistakes():
    def ngd(denom):
        def fn(z, G, D, a, b):
            g = _grad(z, G, D)
            return (z + a * g / denom(g, b)).clamp(-1, 1)

        return fn

    assert "per sample" in _msg(
        checks.check_latent_ngd_step, ngd(lambda g, b: b + (g**2).sum())
    )
    assert "*squared* norm" in _msg(
        checks.check_latent_ngd_step, ngd(lambda g, b: b + g.norm(dim=1, keepdim=True))
    )
    assert "plain gradient step" in _msg(
        checks.check_latent_ngd_step, lambda z, G, D, a, b: _gd(z, G, D, a)
    )
    assert "damping beta is missing" in _msg(
        checks.check_latent_ngd_step, ngd(lambda g, b: (g**2).sum(1, keepdim=True))
    )


def test_mardia_mistakes():
    def mardia(centre=True, correction=0, whiten=True, b1_diag=False, b2_all=False):
        def fn(z):
            zc = z - z.mean(0) if centre else z
            s = torch.cov(zc.T, correction=correction) if centre else zc.T @ zc / len(z)
            m = zc @ torch.linalg.inv(s) @ zc.T if whiten else zc @ zc.T
            b1 = (m.diagonal() ** 3).mean() if b1_diag else (m**3).mean()
            b2 = (m**2).mean() if b2_all else (m.diagonal() ** 2).mean()
            return b1, b2

        return fn

    assert mardia()(torch.randn(50, 3, dtype=F64)) is not None
    assert "divisor n" in _msg(checks.check_mardia, mardia(correction=1))
    assert "Mahalanobis" in _msg(checks.check_mardia, mardia(whiten=False))
    assert "centred" in _msg(checks.check_mardia, mardia(centre=False))
    assert "*all* pairs" in _msg(checks.check_mardia, mardia(b1_diag=True))
    assert "m_ii^2" in _msg(checks.check_mardia, mardia(b2_all=True))


def test_laplacian_variance_mistakes():
    stencil = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=F64).view(
        1, 1, 3, 3
    )

    def lap(x, padding=0):
        n, c, h, w = x.shape
        return F.conv2d(x.reshape(n * c, 1, h, w), stencil, padding=padding).reshape(
            n, -1
        )

    assert "border is included" in _msg(
        checks.check_laplacian_variance, lambda x: lap(x, 1).var(1, unbiased=False)
    )
    assert "population variance" in _msg(
        checks.check_laplacian_variance, lambda x: lap(x).var(1)
    )
    assert "standard deviation" in _msg(
        checks.check_laplacian_variance, lambda x: lap(x).std(1, unbiased=False)
    )
    assert "one score per image" in _msg(
        checks.check_laplacian_variance, lambda x: lap(x).var(unbiased=False)
    )
