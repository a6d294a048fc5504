"""glo_teach.checks: every check passes the library's reference, reports a stub as not implemented,
and names the mistake in plausible wrong answers (written here as a student would write them)."""

import pytest
import torch
import torch.nn.functional as F

from glo_teach import checks
from glo_teach.gan import (
    generator_loss_nonsaturating,
    gradient_penalty,
    js_divergence,
    kl_divergence,
    minimax_value,
    optimal_discriminator,
    power_iteration,
)
from glo_teach.glo import (
    blur,
    gaussian_kernel_1d,
    lap1_loss,
    laplacian_pyramid,
    project_to_ball,
)
from glo_teach.metrics import psnr
from glo_teach.vae import elbo, gaussian_kl, reparameterize

REFERENCES = {
    "check_optimal_discriminator": optimal_discriminator,
    "check_kl_divergence": kl_divergence,
    "check_js_divergence": js_divergence,
    "check_minimax_value": minimax_value,
    "check_nonsaturating_loss": generator_loss_nonsaturating,
    "check_gradient_penalty": gradient_penalty,
    "check_power_iteration": power_iteration,
    "check_ball_projection": project_to_ball,
    "check_gaussian_blur": blur,
    "check_laplacian_pyramid": laplacian_pyramid,
    "check_lap1": lap1_loss,
    "check_psnr": psnr,
    "check_gaussian_kl": gaussian_kl,
    "check_elbo": lambda x, logits, mu, lv: elbo(x, logits, mu, lv, "bernoulli"),
    "check_reparameterize": reparameterize,
}


def test_every_check_has_a_reference_here():
    """Every public check is exercised against a right answer: here, in the chapter 1-5 cases or the 6-11 references."""
    from test_checks_ch01_05 import CASES
    from test_checks_ch06_11 import REFERENCES_E2

    covered = set(REFERENCES) | set(CASES) | set(REFERENCES_E2)
    assert covered == {n for n in checks.__all__ if n.startswith("check_")}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_check_passes_on_the_reference(name, capsys):
    result = getattr(checks, name)(REFERENCES[name])
    assert result.passed and bool(result), result.message
    assert capsys.readouterr().out.startswith("\u2705 PASSED " + name)


def _stub(*args, **kwargs):
    raise NotImplementedError("Question 1: write your code here")


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_check_reports_a_stub_as_not_implemented_without_raising(name, capsys):
    result = getattr(checks, name)(_stub)
    assert not result.passed and not bool(result)
    assert result.message.startswith("not implemented yet")
    assert "\u274c FAILED" in capsys.readouterr().out


def test_a_check_reports_an_exception_and_a_non_function():
    def broken(p, q):
        return p @ q  # (6,) @ (6,) works, (4, 5) @ (4, 5) does not

    assert (
        "raised RuntimeError"
        in checks.check_kl_divergence(broken, verbose=False).message
    )
    assert (
        checks.check_kl_divergence(3, verbose=False).message
        == "expected a function, got int"
    )


def test_checks_leave_the_callers_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.check_gradient_penalty(gradient_penalty, verbose=False)
    checks.check_reparameterize(reparameterize, verbose=False)
    assert torch.equal(torch.rand(3), expected)


def _message(check, fn):
    result = check(fn, verbose=False)
    assert not result.passed
    return result.message


# --- GAN theory: eq. gan-optimal-d, gan-kl, gan-js, gan-value-empirical, gan-nonsaturating -----------------


def test_optimal_discriminator_mistakes():
    """eq. gan-optimal-d: swapped arguments, the density ratio, 0/0 not set to 1/2."""
    assert "swapped" in _message(
        checks.check_optimal_discriminator, lambda p_data, p_g: p_g / (p_data + p_g)
    )
    assert "density ratio" in _message(
        checks.check_optimal_discriminator, lambda p_data, p_g: p_data / p_g
    )
    assert "0/0" in _message(
        checks.check_optimal_discriminator, lambda p_data, p_g: p_data / (p_data + p_g)
    )


def test_kl_with_swapped_arguments_is_diagnosed():
    """eq. gan-kl: KL(q || p) in place of KL(p || q)."""
    assert "swapped" in _message(
        checks.check_kl_divergence, lambda p, q: (q * torch.log(q / p)).sum(-1)
    )


def test_kl_mistakes_factor_axis_and_zero_convention():
    """eq. gan-kl: a spurious 2, the sum over the wrong axis, log 0 on a zero probability."""
    assert "factor 1/2 is missing" in _message(
        checks.check_kl_divergence, lambda p, q: 2 * (p * torch.log(p / q)).sum(-1)
    )
    assert "first dim" in _message(
        checks.check_kl_divergence, lambda p, q: (p * torch.log(p / q)).sum(0)
    )
    assert "bits" in _message(
        checks.check_kl_divergence, lambda p, q: (p * torch.log2(p / q)).sum(-1)
    )
    assert "0 log 0" in _message(
        checks.check_kl_divergence, lambda p, q: (p * torch.log(p / q)).sum(-1)
    )


def test_js_without_the_mixture_is_diagnosed():
    """eq. gan-js: 1/2 KL(p||q) + 1/2 KL(q||p) is not JS."""

    def js_no_mixture(p, q):
        return 0.5 * (p * torch.log(p / q)).sum(-1) + 0.5 * (q * torch.log(q / p)).sum(
            -1
        )

    assert "no mixture" in _message(checks.check_js_divergence, js_no_mixture)


def test_js_with_m_equal_p_plus_q_is_diagnosed():
    """eq. gan-js: m = p + q shifts JS by -log 2."""

    def js_unhalved(p, q):
        m = p + q
        return 0.5 * (torch.xlogy(p, p / m) + torch.xlogy(q, q / m)).sum(-1)

    assert "not p + q" in _message(checks.check_js_divergence, js_unhalved)


def test_minimax_value_mistakes():
    """eq. gan-value-empirical: sigmoid-then-log, log D(G(z)) for log(1 - D(G(z))), -V."""

    def sigmoid_then_log(r, f):
        return (
            torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()
        )

    assert "logsigmoid" in _message(checks.check_minimax_value, sigmoid_then_log)
    assert "log(1 - D(G(z)))" in _message(
        checks.check_minimax_value,
        lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(f).mean(),
    )
    assert "sign is flipped" in _message(
        checks.check_minimax_value, lambda r, f: -minimax_value(r, f)
    )


def test_nonsaturating_loss_mistakes():
    """eq. gan-nonsaturating: the saturating loss in its place; a sum over the batch."""
    assert "saturating loss" in _message(
        checks.check_nonsaturating_loss, lambda f: F.logsigmoid(-f).mean()
    )
    assert "sum over the batch" in _message(
        checks.check_nonsaturating_loss, lambda f: F.softplus(-f).sum()
    )


# --- Lipschitz tools: eq. wgan-gp, sn-power-iteration ----------------------------------------------------------


def _gp(critic, real, fake, eps_shape, create_graph=True, at=None):
    """A student's gradient penalty with a configurable eps shape (and optionally a fixed point `at`)."""
    eps = torch.rand(eps_shape(real), dtype=real.dtype)
    x_hat = (
        eps * real + (1 - eps) * fake if at is None else at(real, fake)
    ).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=create_graph)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


PER_SAMPLE = lambda r: (r.shape[0],) + (1,) * (r.dim() - 1)  # noqa: E731


def test_gradient_penalty_student_version_passes():
    """eq. wgan-gp with a per-sample eps written by hand, not the library's sample_eps."""
    assert checks.check_gradient_penalty(
        lambda c, r, f: _gp(c, r, f, PER_SAMPLE), verbose=False
    ).passed


def test_gradient_penalty_with_one_eps_per_batch_is_diagnosed():
    """eq. wgan-gp-interpolate: one eps for the whole batch instead of one per sample."""
    msg = _message(
        checks.check_gradient_penalty,
        lambda c, r, f: _gp(c, r, f, lambda r: (1,) * r.dim()),
    )
    assert "one eps for the whole batch" in msg


def test_gradient_penalty_other_mistakes():
    """eq. wgan-gp: eps per coordinate, no create_graph, gradient at the real points, norm without '- 1'."""
    assert "not one per coordinate" in _message(
        checks.check_gradient_penalty, lambda c, r, f: _gp(c, r, f, lambda r: r.shape)
    )
    assert "create_graph=True" in _message(
        checks.check_gradient_penalty,
        lambda c, r, f: _gp(c, r, f, PER_SAMPLE, create_graph=False),
    )
    assert "real (or fake) points" in _message(
        checks.check_gradient_penalty,
        lambda c, r, f: _gp(c, r, f, PER_SAMPLE, at=lambda r, f: r.clone()),
    )

    def no_center(c, r, f):
        eps = torch.rand(PER_SAMPLE(r), dtype=r.dtype)
        x_hat = (eps * r + (1 - eps) * f).requires_grad_(True)
        (grad,) = torch.autograd.grad(c(x_hat).sum(), x_hat, create_graph=True)
        return grad.flatten(1).pow(2).sum(1).mean()

    assert "'- 1'" in _message(checks.check_gradient_penalty, no_center)


def test_power_iteration_mistakes():
    """eq. sn-power-iteration: the Frobenius norm; the updates in another order (converges, other iterates)."""
    assert "Frobenius" in _message(
        checks.check_power_iteration, lambda W, n, u: W.norm()
    )

    def u_first(
        W, n, u
    ):  # starts with a u-update from a random v: right limit, different iterates
        W = W.reshape(len(W), -1)
        v = torch.ones(W.shape[1], dtype=W.dtype) / W.shape[1] ** 0.5
        for _ in range(n):
            u = F.normalize(W @ v, dim=0)
            v = F.normalize(W.T @ u, dim=0)
        return F.normalize(u, dim=0) @ W @ v

    assert "order of the updates" in _message(checks.check_power_iteration, u_first)


# --- GLO: eq. glo-projection, laplacian-pyramid, glo-lap1, psnr --------------------------------------------------


def test_sphere_instead_of_ball_is_diagnosed():
    """eq. glo-projection: z / ||z|| moves the codes inside the ball."""
    assert "sphere" in _message(
        checks.check_ball_projection, lambda z: z / z.norm(dim=1, keepdim=True)
    )
    assert "min(||z||, 1)" in _message(
        checks.check_ball_projection,
        lambda z: z / torch.minimum(z.norm(dim=1, keepdim=True), torch.tensor(1.0)),
    )


def _blur_with(K2):
    def student_blur(x):
        n, c, h, w = x.shape
        y = F.pad(x.reshape(n * c, 1, h, w), (2, 2, 2, 2), mode="reflect")
        return F.conv2d(y, K2[None, None].to(x)).reshape(n, c, h, w)

    return student_blur


def test_blur_kernel_that_sums_1d_gaussians_is_diagnosed():
    """eq. laplacian-pyramid: K(u, v) = k(u) k(v), not k(u) + k(v) (normalised or not)."""
    k = gaussian_kernel_1d(dtype=torch.float64)
    k_sum = k[:, None] + k[None, :]
    assert "*product*" in _message(
        checks.check_gaussian_blur, _blur_with(k_sum / k_sum.sum())
    )
    assert "*product*" in _message(checks.check_gaussian_blur, _blur_with(k_sum))
    assert checks.check_gaussian_blur(
        _blur_with(k[:, None] * k[None, :]), verbose=False
    ).passed


def test_blur_with_zero_padding_is_diagnosed():
    """eq. laplacian-pyramid: zero padding darkens the borders."""
    k = gaussian_kernel_1d(dtype=torch.float64)
    zero_pad = lambda x: F.conv2d(
        x.flatten(0, 1)[:, None], (k[:, None] * k)[None, None].to(x), padding=2
    ).view_as(x)  # noqa: E731
    assert "reflect" in _message(checks.check_gaussian_blur, zero_pad)


def test_pyramid_mistakes():
    """eq. laplacian-pyramid: coarse-to-fine order; the Gaussian levels instead of the Laplacian ones."""
    assert "coarse-to-fine" in _message(
        checks.check_laplacian_pyramid, lambda x, k: laplacian_pyramid(x, k)[::-1]
    )

    def gaussian_levels(x, levels):
        out = [x]
        for _ in range(levels - 1):
            out.append(blur(out[-1])[:, :, ::2, ::2])
        return out

    assert "Gaussian levels" in _message(
        checks.check_laplacian_pyramid, gaussian_levels
    )


def test_lap1_mistakes():
    """eq. glo-lap1: weights reversed (coarse level weighted most); squares instead of absolute values."""

    def lap1(x, y, weights, dist):
        pairs = zip(laplacian_pyramid(x, 4), laplacian_pyramid(y, 4))
        return sum(
            w * dist(a - b).flatten(1).mean(1) for w, (a, b) in zip(weights, pairs)
        ).mean()

    assert "reversed" in _message(
        checks.check_lap1,
        lambda x, y: lap1(x, y, [4.0**-k for k in range(3, -1, -1)], torch.abs),
    )
    assert "not squares" in _message(
        checks.check_lap1,
        lambda x, y: lap1(x, y, [4.0**-k for k in range(4)], torch.square),
    )
    assert checks.check_lap1(
        lambda x, y: lap1(x, y, [4.0**-k for k in range(4)], torch.abs), verbose=False
    ).passed


def test_psnr_mistakes():
    """eq. psnr: MAX = 1 for [-1, 1] images; the pSNR of the pooled MSE."""
    mse = lambda x, y: (x - y).pow(2).flatten(1).mean(1)  # noqa: E731
    assert "peak-to-peak" in _message(
        checks.check_psnr, lambda x, y: (10 * torch.log10(1 / mse(x, y))).mean().item()
    )
    assert "pooled" in _message(
        checks.check_psnr, lambda x, y: (10 * torch.log10(4 / mse(x, y).mean())).item()
    )


# --- VAE: eq. vae-gaussian-kl, vae-elbo, vae-reparam --------------------------------------------------------------


def test_elbo_with_the_kl_sign_flipped_is_diagnosed():
    """eq. vae-elbo: log p(x|z) + KL instead of log p(x|z) - KL."""

    def elbo_plus(x, logits, mu, logvar):
        log_px = (
            -F.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="none")
            .flatten(1)
            .sum(1)
        )
        return log_px + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)

    assert "wrong sign" in _message(checks.check_elbo, elbo_plus)


def test_elbo_with_untransformed_targets_is_diagnosed():
    """eq. vae-bernoulli: the targets are t = (x + 1)/2, not x."""

    def elbo_raw(x, logits, mu, logvar):
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(
            1
        ).sum(1) - gaussian_kl(mu, logvar)

    assert "t = (x + 1) / 2" in _message(checks.check_elbo, elbo_raw)


def test_gaussian_kl_mistakes():
    """eq. vae-gaussian-kl: logvar read as log sigma; a mean over latent dims; the missing 1/2."""
    assert "log sigma in its place" in _message(
        checks.check_gaussian_kl,
        lambda mu, lv: 0.5 * (mu**2 + (2 * lv).exp() - 1 - 2 * lv).sum(1),
    )
    assert "*sum*" in _message(
        checks.check_gaussian_kl,
        lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).mean(1),
    )
    assert "factor 1/2 is missing" in _message(
        checks.check_gaussian_kl, lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(1)
    )


def test_reparameterize_mistakes():
    """eq. vae-reparam: sigma^2 as the scale; one eps shared by the batch; no gradient path."""
    assert "sigma^2 as the standard deviation" in _message(
        checks.check_reparameterize, lambda mu, lv: mu + lv.exp() * torch.randn_like(mu)
    )
    assert "shares one eps" in _message(
        checks.check_reparameterize,
        lambda mu, lv: mu + (0.5 * lv).exp() * torch.randn(mu.shape[1], dtype=mu.dtype),
    )
    assert "not differentiable" in _message(
        checks.check_reparameterize,
        lambda mu, lv: torch.normal(mu.detach(), (0.5 * lv).exp().detach()),
    )
    assert checks.check_reparameterize(
        lambda mu, lv: mu + (0.5 * lv).exp() * torch.randn_like(mu), verbose=False
    ).passed
