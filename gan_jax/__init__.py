"""gan_jax: a JAX/Flax codebase for studying why GANs fail and what fixes them.

The notebook API (`restore`, `load_config`, `load_results`, `TrainedGAN`) is loaded on first
use, so importing a part (`gan_jax.objectives`, `gan_jax.models`, ...) does not load the
plotting, checkpointing or logging stack.
"""

import importlib

_API = {
    "TrainedGAN": "gan_jax.api",
    "load_config": "gan_jax.api",
    "restore": "gan_jax.api",
    "load_results": "gan_jax.results",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'gan_jax' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
