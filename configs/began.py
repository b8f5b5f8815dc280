"""BEGAN (Berthelot et al. 2017) on the ring: an autoencoder D with L1 reconstruction loss,
diversity ratio gamma = 0.5, lambda_k = 0.001; logs k_t (`began/k`) and M_global
(`began/m_global`).

  python -m gan_jax.main --config=configs/began.py --workdir=runs/began
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.objective = "began"
    config.loss = ml_collections.ConfigDict(dict(gamma=0.5, lambda_k=0.001))
    config.model.d = ml_collections.ConfigDict(
        dict(name="autoencoder", hidden_sizes=(128,), code_dim=16, activation="tanh")
    )
    return config
