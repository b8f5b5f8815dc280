"""gan_jax: a JAX/Flax codebase for studying why GANs fail and what fixes them."""

from gan_jax.api import TrainedGAN, load_config, restore
from gan_jax.results import load_results

__all__ = ["TrainedGAN", "load_config", "load_results", "restore"]
