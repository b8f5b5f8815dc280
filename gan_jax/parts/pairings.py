"""What D judges, found by name (`config.pairing`): samples, or (x, z) pairs built with G's
helper network (`model.encoder`), and the adversarial loss G's side takes on D's outputs.

A pairing is the extension point for methods whose D sees more than samples: ALI / BiGAN
(Dumoulin et al. 2017; Donahue et al. 2017) and VEEGAN (Srivastava et al. 2017). The step builds
every D input through `real(encode, x)` and `fake(encode, z, x_fake)` and G's side's adversarial
loss through `g_loss`, so adding such a method is one entry here, never an `if` in the step.
D's pair input is the flattened sample followed by its code, one vector per sample.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


class Pairing(NamedTuple):
    """How D's inputs are built and what G's side minimises on D's outputs.

    Attributes:
      input_shape: `(data shape, latent_dim) -> D's per-sample input shape`.
      real: `(encode, x) -> D's input for the real batch x`; `encode(x)` is G's helper's code
        of x, a draw from it for a stochastic helper (`encoder.sample_code_fn`).
      fake: `(encode, z, x_fake) -> D's input for G's batch x_fake = G(z)`.
      g_loss: `(objective, discriminate, d_real, d_fake, obj_state, loss_hparams) -> (loss,
        aux)`, G's side's adversarial loss; `discriminate(input) -> D's outputs`.
      needs_encoder: whether `real` / `fake` / the method read G's helper.
    """

    input_shape: Callable
    real: Callable
    fake: Callable
    g_loss: Callable
    needs_encoder: bool


def _samples_shape(data_shape, latent_dim):
    del latent_dim
    return tuple(data_shape)


def _joint_shape(data_shape, latent_dim):
    return (int(np.prod(data_shape)) + latent_dim,)


def joint(x: jax.Array, z: jax.Array) -> jax.Array:
    """The pair (x, z) as D sees it: flatten(x) followed by z, (n, prod(x's shape) + latent)."""
    return jnp.concatenate([x.reshape(x.shape[0], -1), z], axis=-1)


def _samples_g_loss(objective, discriminate, d_real, d_fake, obj_state, loss_hparams):
    """A GAN's: the objective's G loss on D's outputs for G's samples."""
    del d_real
    return objective.g_loss(discriminate(d_fake), obj_state, loss_hparams)


SAMPLES = Pairing(
    input_shape=_samples_shape,
    real=lambda encode, x: x,
    fake=lambda encode, z, fake: fake,
    g_loss=_samples_g_loss,
    needs_encoder=False,
)


def _ali_g_loss(objective, discriminate, d_real, d_fake, obj_state, loss_hparams):
    """ALI / BiGAN (Dumoulin et al. 2017, Eq. 1-2 and Alg. 1; Donahue et al. 2017, Eq. 3): G
    and E play D's game with the labels swapped, G pushing D(G(z), z) to "real" and E pushing
    D(x, E(x)) to "fake". With the objective's G loss l_G(logit) (non-saturating in ALI's
    code), that is l_G(D(G(z), z)) + l_G(-D(x, E(x))): negating a logit swaps its labels."""
    fake_loss, aux = objective.g_loss(discriminate(d_fake), obj_state, loss_hparams)
    real_loss, _ = objective.g_loss(-discriminate(d_real), obj_state, loss_hparams)
    return fake_loss + real_loss, {**aux, "g/encoder_loss": real_loss}


ALI = Pairing(
    input_shape=_joint_shape,
    real=lambda encode, x: joint(x, encode(x)),
    fake=lambda encode, z, fake: joint(fake, z),
    g_loss=_ali_g_loss,
    needs_encoder=True,
)


def _veegan_g_loss(objective, discriminate, d_real, d_fake, obj_state, loss_hparams):
    """VEEGAN (Srivastava et al. 2017, Alg. 1, line 9): G minimises (1/N) sum D_w(z, G(z)), the
    density-ratio estimate of KL[q(x|z) p(z) || p(z|x) p(x)] whose D_w is a logit that is high
    on generated pairs. Our D's logit is high on real pairs, so D_w = -logit and G's side
    minimises -mean(logit(G(z), z)), whatever the objective's own G loss (the D loss of Alg. 1,
    line 7, is the "nonsaturating" objective's). The reconstruction of z, the other half of
    G's and F's loss, is the "reconstruction" G regulariser (`regularizers.py`)."""
    del objective, d_real, obj_state, loss_hparams
    return -jnp.mean(discriminate(d_fake)), {}


VEEGAN = Pairing(
    input_shape=_joint_shape,
    # F(x) feeds D only (Alg. 1: F's gradient is the reconstruction's, line 8), also through
    # second-order unrolling.
    real=lambda encode, x: joint(x, lax.stop_gradient(encode(x))),
    fake=lambda encode, z, fake: joint(fake, z),
    g_loss=_veegan_g_loss,
    needs_encoder=True,
)

PAIRINGS = {"none": SAMPLES, "ali": ALI, "veegan": VEEGAN}
# Objectives whose G loss on a negated logit is the G loss with the labels swapped (ALI needs
# it: l_D(real, fake) = l_D(-fake, -real)); LSGAN's and the energy objectives' are not.
LABEL_SYMMETRIC_OBJECTIVES = frozenset({"minimax", "nonsaturating", "hinge", "wasserstein"})
