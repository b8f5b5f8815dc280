"""configs/gan.py with alternating updates: G's step faces the D that has just been updated
(the usual GAN practice; Mescheder et al. 2017 and 2018 show it rotates less than
simultaneous steps, without converging on Dirac-GAN).

  python -m gan_jax.main --config=configs/alternating.py --workdir=runs/alternating
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.update_order = "alternating"
    return config
