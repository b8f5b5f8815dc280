"""Boundary Equilibrium GAN (Berthelot et al. 2017, "BEGAN", Sec. 3.3-3.4.1).

D is an autoencoder with the L1 reconstruction loss L(v) = |v - D(v)| (eta = 1):

    L_D = L(x) - k_t L(G(z))
    L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
    M_global = L(x) + |gamma L(x) - L(G(z))|          (the convergence measure)

k_t is the objective state, carried in `GANState`, so it vmaps and checkpoints with the run.
`gamma` (diversity ratio, in (0, 1]) and `lambda_k` are dynamic; k_0 = 0 as in the paper.
"""

import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, energy_diagnostics


def init_state():
    return {"k": jnp.zeros((), jnp.float32)}


def d_loss(d_real, d_fake, state, hparams):
    real, fake = jnp.mean(d_real["l1"]), jnp.mean(d_fake["l1"])
    k = state["k"]
    balance = hparams["gamma"] * real - fake
    aux = energy_diagnostics(d_real["l1"], d_fake["l1"])
    aux.update({"began/k": k, "began/balance": balance, "began/m_global": real + jnp.abs(balance)})
    return real - k * fake, aux


def g_loss(d_fake, state, hparams):
    del state, hparams
    return jnp.mean(d_fake["l1"]), {}


def update_state(state, d_aux, hparams):
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1), Eq. in Sec. 3.3."""
    k = jnp.clip(state["k"] + hparams["lambda_k"] * d_aux["began/balance"], 0.0, 1.0)
    return {"k": k}


def validate(hparams):
    if not 0 < hparams["gamma"] <= 1:
        raise ValueError(f"loss.gamma={hparams['gamma']!r} is invalid: must be in (0, 1]")
    if hparams["lambda_k"] < 0:
        raise ValueError(f"loss.lambda_k={hparams['lambda_k']!r} is invalid: must be >= 0")


OBJECTIVE = Objective(
    d_loss=d_loss,
    g_loss=g_loss,
    init_state=init_state,
    update_state=update_state,
    hparams={"gamma": 0.5, "lambda_k": 0.001},
    validate=validate,
    d_output="energy",
)
