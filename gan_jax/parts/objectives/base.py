"""The objective contract shared by every GAN variant, and helpers for logit discriminators."""

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

Aux = dict[str, jax.Array]


def _no_state() -> tuple:
    return ()


def _keep_state(state: Any, d_aux: Aux, hparams: Mapping[str, jax.Array]) -> Any:
    del d_aux, hparams
    return state


def _accept_all(hparams: Mapping[str, float]) -> None:
    del hparams


class Objective(NamedTuple):
    """One GAN objective as pure functions.

    Attributes:
      d_loss: `(d_real, d_fake, state, hparams) -> (loss, aux)`; `d_real`/`d_fake` are D's
        outputs on a real and a generated batch; `aux` is a dict of scalar diagnostics.
      g_loss: `(d_fake, state, hparams) -> (loss, aux)`.
      init_state: `() -> state`, the objective's own state (a pytree; `()` when stateless).
      update_state: `(state, d_aux, hparams) -> state`, applied after each D update with the
        `aux` that `d_loss` returned.
      hparams: the dynamic scalar parameters with their defaults; `config.loss.*` overrides them.
      validate: `(hparams) -> None`, raises `ValueError` naming `loss.<field>` on a bad value.
      d_output: what D must return: "logit" (one number per sample) or "energy" (an
        autoencoder's dict with per-sample "l1" and "l2" reconstruction errors and "codes").
    """

    d_loss: Callable[..., tuple[jax.Array, Aux]]
    g_loss: Callable[..., tuple[jax.Array, Aux]]
    init_state: Callable[[], Any] = _no_state
    update_state: Callable[..., Any] = _keep_state
    hparams: Mapping[str, float] = {}
    validate: Callable[[Mapping[str, float]], None] = _accept_all
    d_output: str = "logit"


def logit_diagnostics(d_real: jax.Array, d_fake: jax.Array) -> Aux:
    """Balance diagnostics of a D whose output is a logit (positive means "real")."""
    return {
        "d/real_output": jnp.mean(d_real),
        "d/fake_output": jnp.mean(d_fake),
        "d/real_prob": jnp.mean(jax.nn.sigmoid(d_real)),
        "d/fake_prob": jnp.mean(jax.nn.sigmoid(d_fake)),
        "d/real_accuracy": jnp.mean(d_real > 0),
        "d/fake_accuracy": jnp.mean(d_fake < 0),
    }


def cross_entropy_d_loss(d_real, d_fake, state, hparams):
    """The GAN discriminator loss -E[log D(x)] - E[log(1 - D(G(z)))], D(x) = sigmoid(logit).

    Goodfellow et al. 2014, "Generative Adversarial Nets", Eq. 1. Uses
    -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t) for stability.
    """
    del state, hparams
    loss = jnp.mean(jax.nn.softplus(-d_real)) + jnp.mean(jax.nn.softplus(d_fake))
    return loss, logit_diagnostics(d_real, d_fake)


def energy_diagnostics(real_energy: jax.Array, fake_energy: jax.Array) -> Aux:
    """Balance diagnostics of an energy D (low energy means "real"): a sample counts as judged
    correctly when its energy is on the right side of the midpoint of the two batch means."""
    midpoint = 0.5 * (jnp.mean(real_energy) + jnp.mean(fake_energy))
    return {
        "d/real_output": jnp.mean(real_energy),
        "d/fake_output": jnp.mean(fake_energy),
        "d/real_accuracy": jnp.mean(real_energy < midpoint),
        "d/fake_accuracy": jnp.mean(fake_energy > midpoint),
    }
