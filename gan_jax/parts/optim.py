"""Optimizers for both players, found by name (`config.optim.g.name`, `config.optim.d.name`).

Every optimizer is wrapped in `optax.inject_hyperparams`, so its numeric hyperparameters
(learning rate, betas, ...) live in the optimizer state: runs that differ only in them share one
compiled program and vmap over the state (see DESIGN.md, "Static vs dynamic config").

A learning-rate schedule (`schedule`, static) multiplies the optimizer's updates by a factor
that falls from 1 to `schedule_final` over the player's first `schedule_steps` updates
(`optax.scale_by_schedule`), so the dynamic learning rate stays the peak rate a sweep varies.
"""

import functools
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


# name -> optax schedule of the update multiplier, from (schedule_steps, schedule_final).
# "constant" builds no schedule at all, so the optimizer state keeps the structure it had before
# schedules existed (older checkpoints restore).
SCHEDULES = {
    "constant": None,
    # Linear decay (e.g. Brock et al. 2019 and many GAN recipes decay the rate linearly).
    "linear": lambda steps, final: optax.linear_schedule(1.0, final, steps),
    # Cosine decay (Loshchilov & Hutter 2017, Eq. 5 without restarts).
    "cosine": lambda steps, final: optax.cosine_decay_schedule(1.0, steps, alpha=final),
}


def optimizer_hparams(cfg) -> dict[str, float]:
    """The dynamic hyperparameters of optimizer config `cfg`, as floats."""
    _, fields = OPTIMIZERS[cfg.name]
    return {field: float(cfg[field]) for field in fields if field in cfg}


def make_optimizer(cfg) -> optax.GradientTransformation:
    """Builds the optimizer `cfg.name` with its hyperparameters injected into its state, its
    updates scaled by the schedule `cfg.schedule` (absent: "constant")."""
    factory, _ = OPTIMIZERS[cfg.name]
    schedule = SCHEDULES[cfg.get("schedule", "constant")]
    if schedule is not None:
        multiplier = schedule(int(cfg.schedule_steps), float(cfg.schedule_final))

        @functools.wraps(factory)  # inject_hyperparams reads the factory's signature
        def scheduled(**hparams):
            return optax.chain(factory(**hparams), optax.scale_by_schedule(multiplier))

        return optax.inject_hyperparams(scheduled)(**optimizer_hparams(cfg))
    return optax.inject_hyperparams(factory)(**optimizer_hparams(cfg))


def with_hparams(opt_state, hparams: Mapping[str, object]):
    """Returns `opt_state` (an `InjectHyperparamsState`) with `hparams` replacing its values.

    Used to give each run of a vmapped sweep its own learning rate after a shared `init`.
    """
    merged = dict(opt_state.hyperparams)
    for name, value in hparams.items():
        merged[name] = jnp.asarray(value, dtype=jnp.asarray(merged[name]).dtype)
    return opt_state._replace(hyperparams=merged)
