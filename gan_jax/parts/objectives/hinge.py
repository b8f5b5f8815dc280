"""Hinge GAN loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, SN-GAN, Eq. 16-17;
Brock et al. 2019, BigGAN).

    L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]
    L_G = -E_z[D(G(z))]
"""

import jax
import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, logit_diagnostics


def d_loss(d_real, d_fake, state, hparams):
    del state, hparams
    loss = jnp.mean(jax.nn.relu(1.0 - d_real)) + jnp.mean(jax.nn.relu(1.0 + d_fake))
    return loss, logit_diagnostics(d_real, d_fake)


def g_loss(d_fake, state, hparams):
    del state, hparams
    return -jnp.mean(d_fake), {}


OBJECTIVE = Objective(d_loss=d_loss, g_loss=g_loss)
