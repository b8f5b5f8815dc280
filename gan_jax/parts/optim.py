"""Optimizers for both players, found by name (`config.optim.g.name`, `config.optim.d.name`).

Every optimizer is wrapped in `optax.inject_hyperparams`, so its numeric hyperparameters
(learning rate, betas, ...) live in the optimizer state: runs that differ only in them share one
compiled program and vmap over the state (see DESIGN.md, "Static vs dynamic config").
"""

from collections.abc import Mapping

import jax.numpy as jnp
import optax

# name -> (optax factory, the config fields it takes). Each field is a dynamic hyperparameter.
OPTIMIZERS = {
    "adam": (optax.adam, ("learning_rate", "b1", "b2", "eps", "eps_root")),
    "sgd": (optax.sgd, ("learning_rate", "momentum")),
    "rmsprop": (optax.rmsprop, ("learning_rate", "decay", "eps")),
    # Optimistic gradient descent (Daskalakis et al. 2018, Eq. 4): x+ = x - (1 + alpha) lr g_t
    # + beta lr g_{t-1}, with alpha = beta = 1 in the paper.
    "optimistic_sgd": (optax.optimistic_gradient_descent, ("learning_rate", "alpha", "beta")),
    # Optimistic Adam (Daskalakis et al. 2018, Alg. 1).
    "optimistic_adam": (optax.optimistic_adam, ("learning_rate", "b1", "b2", "eps", "eps_root")),
}


def optimizer_hparams(cfg) -> dict[str, float]:
    """The dynamic hyperparameters of optimizer config `cfg`, as floats."""
    _, fields = OPTIMIZERS[cfg.name]
    return {field: float(cfg[field]) for field in fields if field in cfg}


def make_optimizer(cfg) -> optax.GradientTransformation:
    """Builds the optimizer `cfg.name` with its hyperparameters injected into its state."""
    factory, _ = OPTIMIZERS[cfg.name]
    return optax.inject_hyperparams(factory)(**optimizer_hparams(cfg))


def with_hparams(opt_state, hparams: Mapping[str, object]):
    """Returns `opt_state` (an `InjectHyperparamsState`) with `hparams` replacing its values.

    Used to give each run of a vmapped sweep its own learning rate after a shared `init`.
    """
    merged = dict(opt_state.hyperparams)
    for name, value in hparams.items():
        merged[name] = jnp.asarray(value, dtype=jnp.asarray(merged[name]).dtype)
    return opt_state._replace(hyperparams=merged)
