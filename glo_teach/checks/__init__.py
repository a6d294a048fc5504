"""Immediate feedback for students: ``check_<piece>(my_function)`` says whether it is right and, if not, what is wrong.

Each check calls the student's function on random inputs drawn with fixed seeds, compares the
result with the library's reference (``glo_teach.gan``, ``glo_teach.glo``, ``glo_teach.vae``,
``glo_teach.metrics``) and prints one line. A wrong answer is diagnosed by computing the
plausible mistakes (the reference with swapped arguments, a flipped sign, a missing factor, the
wrong axis, the sphere instead of the ball, ...) and matching them against the student's output;
the message names the mistake without giving the solution. A check never raises on a wrong
answer; it returns a :class:`CheckResult` (``passed``, ``message``; truthy iff passed), so a
graded cell can ``assert check_x(fn).passed``. A function that still raises
``NotImplementedError`` is reported as "not implemented yet".

    >>> from glo_teach.checks import check_js_divergence
    >>> check_js_divergence(my_js)          # prints e.g. "FAILED check_js_divergence: no mixture: ..."
"""

from ._core import CheckResult
from .gan import (
    check_gradient_penalty,
    check_js_divergence,
    check_kl_divergence,
    check_minimax_value,
    check_nonsaturating_loss,
    check_optimal_discriminator,
    check_power_iteration,
)
from .glo import (
    check_ball_projection,
    check_gaussian_blur,
    check_lap1,
    check_laplacian_pyramid,
    check_psnr,
)
from .vae import check_elbo, check_gaussian_kl, check_reparameterize

# chapters 1-5 (E1)
from .cycle import check_cycle_loss
from .game import check_discriminator_loss
from .lsgan import check_lsgan_discriminator_loss
from .mixture import check_mixture_log_density
from .modes import check_reverse_kl_counts
from .noise import check_instance_noise_schedule
from .wgan import check_wgan_critic_loss

# chapters 6-11 (E2)
from .gaussianity import check_mardia
from .glo import check_pyramid_reconstruct
from .latent import check_arithmetic, check_interpolate
from .logan import check_latent_gd_step, check_latent_ngd_step
from .sampling import check_fit_gaussian, check_gaussian_sampling
from .sharpness import check_laplacian_variance

__all__ = [
    "CheckResult",
    "check_optimal_discriminator",
    "check_kl_divergence",
    "check_js_divergence",
    "check_minimax_value",
    "check_nonsaturating_loss",
    "check_gradient_penalty",
    "check_power_iteration",
    "check_ball_projection",
    "check_gaussian_blur",
    "check_laplacian_pyramid",
    "check_lap1",
    "check_psnr",
    "check_gaussian_kl",
    "check_elbo",
    "check_reparameterize",
    # chapters 1-5 (E1)
    "check_mixture_log_density",
    "check_discriminator_loss",
    "check_reverse_kl_counts",
    "check_wgan_critic_loss",
    "check_lsgan_discriminator_loss",
    "check_cycle_loss",
    "check_instance_noise_schedule",
    # chapters 6-11 (E2)
    "check_pyramid_reconstruct",
    "check_fit_gaussian",
    "check_gaussian_sampling",
    "check_interpolate",
    "check_arithmetic",
    "check_latent_gd_step",
    "check_latent_ngd_step",
    "check_mardia",
    "check_laplacian_variance",
]
