"""Wasserstein GAN critic loss (Arjovsky et al. 2017, Eq. 3; with the gradient penalty of
Gulrajani et al. 2017, Eq. 3, it is WGAN-GP: `configs/wgan_gp.py` sets `penalty.name = "gp"`).

    L_D = E_z[D(G(z))] - E_x[D(x)]        (the negative Wasserstein-1 estimate)
    L_G = -E_z[D(G(z))]
"""

import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, logit_diagnostics


def d_loss(d_real, d_fake, state, hparams):
    del state, hparams
    aux = logit_diagnostics(d_real, d_fake)
    aux["d/wasserstein_estimate"] = jnp.mean(d_real) - jnp.mean(d_fake)
    return jnp.mean(d_fake) - jnp.mean(d_real), aux


def g_loss(d_fake, state, hparams):
    del state, hparams
    return -jnp.mean(d_fake), {}


OBJECTIVE = Objective(d_loss=d_loss, g_loss=g_loss)
