"""LSGAN (Mao et al. 2017) on the ring; a=-1, b=1, c=0. The 0-1-1 variant:
--config.loss.a=0 --config.loss.c=1. Same networks and optimizers as configs/gan.py.

  python -m gan_jax.main --config=configs/lsgan.py --workdir=runs/lsgan
  python -m gan_jax.main --config=configs/lsgan.py --config.data.name=grid --workdir=runs/lsgan_grid
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.objective = "lsgan"
    config.loss = ml_collections.ConfigDict(dict(a=-1.0, b=1.0, c=0.0))
    return config
