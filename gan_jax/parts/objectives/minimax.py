"""The original, saturating minimax GAN (Goodfellow et al. 2014, Eq. 1).

G minimises E[log(1 - D(G(z)))] = -E[softplus(logit)], the exact minimax game. Its gradient
vanishes when D confidently rejects the samples, which is why `nonsaturating` exists.
"""

import jax
import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, cross_entropy_d_loss


def g_loss(d_fake, state, hparams):
    """E[log(1 - sigmoid(d_fake))] = -E[softplus(d_fake)]."""
    del state, hparams
    return -jnp.mean(jax.nn.softplus(d_fake)), {}


OBJECTIVE = Objective(d_loss=cross_entropy_d_loss, g_loss=g_loss)
