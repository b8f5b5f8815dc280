"""The non-saturating GAN (Goodfellow et al. 2014, Sec. 3, the heuristic below Eq. 1).

G maximises log D(G(z)) instead of minimising log(1 - D(G(z))): the same fixed point, strong
gradients early in training. G's loss is -E[log sigmoid(d_fake)] = E[softplus(-d_fake)].
"""

import jax
import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, cross_entropy_d_loss


def g_loss(d_fake, state, hparams):
    """-E[log sigmoid(d_fake)] = E[softplus(-d_fake)]."""
    del state, hparams
    return jnp.mean(jax.nn.softplus(-d_fake)), {}


OBJECTIVE = Objective(d_loss=cross_entropy_d_loss, g_loss=g_loss)
