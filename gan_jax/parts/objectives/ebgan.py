"""Energy-based GAN (Zhao et al. 2017, "Energy-based Generative Adversarial Network").

D is an autoencoder and its energy is the reconstruction error D(x) = ||Dec(Enc(x)) - x||^2
(mean over dimensions). Eq. 1-2 and the pulling-away term, Eq. 6:

    L_D = D(x) + max(0, m - D(G(z)))
    L_G = D(G(z)) + lambda_PT * PT(S),  PT = 1/(N(N-1)) sum_{i != j} (S_i.S_j / |S_i||S_j|)^2

S are the encoder's codes of the generated batch. `margin` m and `pt_weight` are dynamic.
"""

import jax.numpy as jnp

from gan_jax.parts.objectives.base import Objective, energy_diagnostics


def pulling_away(codes):
    """Zhao et al. 2017, Eq. 6: mean squared cosine similarity over distinct pairs of codes."""
    unit = codes / (jnp.linalg.norm(codes, axis=-1, keepdims=True) + 1e-8)
    cosine = unit @ unit.T
    n = codes.shape[0]
    return (jnp.sum(cosine**2) - jnp.sum(jnp.diag(cosine) ** 2)) / (n * (n - 1))


def d_loss(d_real, d_fake, state, hparams):
    del state
    real, fake = d_real["l2"], d_fake["l2"]
    loss = jnp.mean(real) + jnp.mean(jnp.maximum(0.0, hparams["margin"] - fake))
    return loss, energy_diagnostics(real, fake)


def g_loss(d_fake, state, hparams):
    del state
    pt = pulling_away(d_fake["codes"])
    return jnp.mean(d_fake["l2"]) + hparams["pt_weight"] * pt, {"g/pulling_away": pt}


def validate(hparams):
    if not hparams["margin"] > 0:
        raise ValueError(f"loss.margin={hparams['margin']!r} is invalid: must be > 0")
    if hparams["pt_weight"] < 0:
        raise ValueError(f"loss.pt_weight={hparams['pt_weight']!r} is invalid: must be >= 0")


OBJECTIVE = Objective(
    d_loss=d_loss,
    g_loss=g_loss,
    hparams={"margin": 1.0, "pt_weight": 0.1},
    validate=validate,
    d_output="energy",
)
