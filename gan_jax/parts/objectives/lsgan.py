"""Least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks", Eq. 2).

    min_D 1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2]
    min_G 1/2 E_z[(D(G(z)) - c)^2]

a and b are D's targets for fake and real data, c the value G wants D to believe. Defaults
a = -1, b = 1, c = 0 (b - c = 1, b - a = 2: minimising Pearson chi^2, Sec. 3.2.1); the 0-1-1
variant (a = 0, b = 1, c = 1) is `--config.loss.a=0 --config.loss.c=1`.
"""

import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective


def d_loss(d_real, d_fake, state, hparams):
    del state
    real_term = 0.5 * jnp.mean((d_real - hparams["b"]) ** 2)
    fake_term = 0.5 * jnp.mean((d_fake - hparams["a"]) ** 2)
    midpoint = 0.5 * (hparams["a"] + hparams["b"])  # D says "real" above the midpoint
    aux = {
        "d/real_output": jnp.mean(d_real),
        "d/fake_output": jnp.mean(d_fake),
        "d/real_accuracy": jnp.mean(d_real > midpoint),
        "d/fake_accuracy": jnp.mean(d_fake < midpoint),
    }
    return real_term + fake_term, aux


def g_loss(d_fake, state, hparams):
    del state
    return 0.5 * jnp.mean((d_fake - hparams["c"]) ** 2), {}


def validate(hparams):
    if hparams["a"] == hparams["b"]:
        raise ValueError(
            f"loss.a={hparams['a']!r} is invalid: must differ from loss.b={hparams['b']!r} "
            "(D's fake and real targets)"
        )


OBJECTIVE = Objective(
    d_loss=d_loss, g_loss=g_loss, hparams={"a": -1.0, "b": 1.0, "c": 0.0}, validate=validate
)
