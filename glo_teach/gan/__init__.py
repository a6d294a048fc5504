"""GAN theory and training: the minimax game, its losses, Lipschitz tools and the training loop."""

# --- theory: value.py, losses.py, lipschitz.py, noise.py, dirac.py, wasserstein.py, duality.py ---
from .dirac import dirac_trajectory, dirac_value, dirac_vector_field
from .duality import KRDuality, kr_duality, lipschitz_on
from .lipschitz import (
    apply_spectral_norm,
    clip_weights_,
    conv_operator_norm,
    gradient_penalty,
    interpolate,
    power_iteration,
    sample_eps,
    spectral_norm,
)
from .losses import (
    GAN_LOSSES,
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from .noise import add_instance_noise, instance_noise_sigma
from .value import (
    js_divergence,
    kl_divergence,
    minimax_value,
    optimal_discriminator,
    value_at_optimum,
)
from .wasserstein import js_parallel_lines, parallel_lines, w1_1d, w1_parallel_lines

__all__ = [
    "minimax_value",
    "optimal_discriminator",
    "kl_divergence",
    "js_divergence",
    "value_at_optimum",
    "discriminator_loss",
    "generator_loss_saturating",
    "generator_loss_nonsaturating",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "GAN_LOSSES",
    "clip_weights_",
    "sample_eps",
    "interpolate",
    "gradient_penalty",
    "power_iteration",
    "spectral_norm",
    "conv_operator_norm",
    "apply_spectral_norm",
    "add_instance_noise",
    "instance_noise_sigma",
    "dirac_value",
    "dirac_vector_field",
    "dirac_trajectory",
    "js_parallel_lines",
    "w1_parallel_lines",
    "parallel_lines",
    "w1_1d",
    "KRDuality",
    "kr_duality",
    "lipschitz_on",
]

# --- training: train.py, conditional.py, cyclegan.py ---
from .conditional import ConditionalDiscriminator, ConditionalGenerator  # noqa: E402
from .cyclegan import (
    CycleGenerator,
    PatchDiscriminator,
    cycle_consistency_loss,
    domain_transform,  # noqa: E402
    make_domains,
    train_cyclegan,
    translation_error,
)
from .toy_nets import MLPDiscriminator, MLPGenerator  # noqa: E402
from .train import TRAIN_LOSSES, RealBatches, train_gan  # noqa: E402

__all__ += [
    "train_gan",
    "TRAIN_LOSSES",
    "RealBatches",
    "MLPGenerator",
    "MLPDiscriminator",
    "ConditionalGenerator",
    "ConditionalDiscriminator",
    "CycleGenerator",
    "PatchDiscriminator",
    "domain_transform",
    "make_domains",
    "cycle_consistency_loss",
    "translation_error",
    "train_cyclegan",
]

# --- latent optimisation (LOGAN): latent_opt.py ---
from .latent_opt import (
    LATENT_METHODS,
    LOGAN_BIGGAN_DEEP,
    PRIORS,
    latent_optimise,
    latent_regulariser,  # noqa: E402
    sample_prior,
)

__all__ += [
    "latent_optimise",
    "latent_regulariser",
    "sample_prior",
    "LATENT_METHODS",
    "PRIORS",
    "LOGAN_BIGGAN_DEEP",
]

# --- the energy-based reading of the latent step: langevin.py ---
from .langevin import langevin  # noqa: E402

__all__ += ["langevin"]
