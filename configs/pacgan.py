"""PacGAN4 (Lin et al. 2018): D judges 4 samples at once, concatenated. Otherwise
configs/gan.py.

  python -m gan_jax.main --config=configs/pacgan.py --workdir=runs/pacgan
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.model.d.pack = 4
    return config
