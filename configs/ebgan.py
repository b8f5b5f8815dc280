"""EBGAN (Zhao et al. 2017) on the ring: an autoencoder D whose energy is the mean squared
reconstruction error, margin m = 1, pulling-away term weight 0.1.

  python -m gan_jax.main --config=configs/ebgan.py --workdir=runs/ebgan
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.objective = "ebgan"
    config.loss = ml_collections.ConfigDict(dict(margin=1.0, pt_weight=0.1))
    config.model.d = ml_collections.ConfigDict(
        dict(name="autoencoder", hidden_sizes=(128,), code_dim=16, activation="tanh")
    )
    return config
