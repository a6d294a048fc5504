"""Property-based input validation: the public functions either work or raise ValueError / TypeError
that says what was expected -- no IndexError, RuntimeError or shape error from deep inside torch."""

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glo_teach import DCGANDiscriminator, DCGANGenerator
from glo_teach.gan import (
    discriminator_loss,
    generator_loss_nonsaturating,
    gradient_penalty,
    js_divergence,
    kl_divergence,
    minimax_value,
    optimal_discriminator,
    power_iteration,
    wgan_critic_loss,
)
from glo_teach.glo import interpolate, lap1_loss, laplacian_pyramid, project_to_ball
from glo_teach.metrics import frechet_distance, mode_coverage, psnr
from glo_teach.plot import image_grid
from glo_teach.vae import gaussian_kl, reparameterize

CLEAR = (ValueError, TypeError)

shapes = st.lists(st.integers(0, 5), min_size=0, max_size=5).map(tuple)
dtypes = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool])


@st.composite
def tensors(draw, shape=shapes, dtype=dtypes):
    s, dt = draw(shape), draw(dtype)
    x = (
        torch.randn(
            s, generator=torch.Generator().manual_seed(draw(st.integers(0, 99)))
        )
        if s
        else torch.tensor(0.5)
    )
    return x.to(dt)


anything = st.one_of(
    tensors(), st.none(), st.just([1.0, 2.0]), st.just(np.zeros((2, 2))), st.just("x")
)

ONE_ARG = [
    generator_loss_nonsaturating,
    project_to_ball,
    image_grid,
    lambda x: psnr(x, x),
    lambda x: laplacian_pyramid(x, 2),
    lambda x: power_iteration(x, 3),
]
TWO_ARGS = [
    minimax_value,
    discriminator_loss,
    wgan_critic_loss,
    optimal_discriminator,
    kl_divergence,
    js_divergence,
    psnr,
    lambda a, b: lap1_loss(a, b, 2),
    gaussian_kl,
    reparameterize,
    lambda a, b: interpolate(a, b, 3),
    lambda a, b: mode_coverage(a, b, 0.1, 1),
]


EXPECTED = re.compile(
    r"\b(must|expected|need|is empty|is an empty)\b"
)  # what the function wanted
CAME = re.compile(r"\bgot\b|shape \(")  # what it was given


def _only_clear_errors(fn, *args):
    """fn works or raises ValueError / TypeError whose message states what was expected and what came
    (for a TypeError caused by a non-tensor argument: that argument's type name)."""
    try:
        fn(*args)
    except CLEAR as e:
        msg = str(e)
        assert EXPECTED.search(msg), (
            f"{fn}: message does not say what was expected: {msg!r}"
        )
        assert CAME.search(msg), f"{fn}: message does not say what came: {msg!r}"
        foreign = {type(a).__name__ for a in args if not isinstance(a, torch.Tensor)}
        if isinstance(e, TypeError) and foreign:
            assert any(name in msg for name in foreign), (
                f"{fn}: TypeError does not name the type {foreign}: {msg!r}"
            )


FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("fn", ONE_ARG)
@FAST
@given(x=anything)
def test_one_argument_functions(fn, x):
    _only_clear_errors(fn, x)


@pytest.mark.parametrize("fn", TWO_ARGS)
@FAST
@given(a=anything, b=anything)
def test_two_argument_functions(fn, a, b):
    _only_clear_errors(fn, a, b)


@FAST
@given(z=anything)
def test_generator_input(z):
    _only_clear_errors(
        DCGANGenerator(latent_dim=4, channels=1, size=32, width=4).eval(), z
    )


@FAST
@given(x=anything)
def test_discriminator_input(x):
    _only_clear_errors(DCGANDiscriminator(channels=1, size=32, width=4).eval(), x)


@FAST
@given(real=anything, fake=anything)
def test_gradient_penalty_inputs(real, fake):
    _only_clear_errors(
        lambda r, f: gradient_penalty(lambda x: x.flatten(1).sum(1), r, f), real, fake
    )


@FAST
@given(a=anything, b=anything)
def test_frechet_inputs(a, b):
    _only_clear_errors(lambda m, s: frechet_distance(m, s, m, s), a, b)


def test_image_grid_refuses_nan_images():
    """A diverged generator must not be drawn as a silent NaN grid."""
    with pytest.raises(ValueError, match="NaN"):
        image_grid(torch.full((2, 1, 4, 4), float("nan")))
