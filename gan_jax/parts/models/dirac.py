"""Dirac-GAN's players (Mescheder et al. 2018, Sec. 2.2): G_theta(z) = theta, D_psi(x) = psi . x.

With these two modules the ordinary train step, objectives, penalties and optimizers play the
two-parameter game whose dynamics have a closed form (see `gan_jax.step.game`), so every fix for
oscillation can be checked on it exactly before it is run on a real GAN.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


class DiracGenerator(nn.Module):
    """Ignores z: every sample is the parameter theta (shape `data_shape`), started at
    `initial_theta`."""

    data_shape: tuple[int, ...]
    latent_dim: int = 1
    initial_theta: float = 1.0

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train
        theta = self.param("theta", lambda key: jnp.full(self.data_shape, self.initial_theta))
        return jnp.broadcast_to(theta, z.shape[:-1] + tuple(self.data_shape))


class LinearDiscriminator(nn.Module):
    """D(x) = psi . x, no bias: a logit per sample, psi started at
    `initial_psi` in every coordinate."""

    initial_psi: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        psi = self.param(
            "psi", lambda key, shape: jnp.full(shape, self.initial_psi), (x.shape[-1],)
        )
        return x @ psi
