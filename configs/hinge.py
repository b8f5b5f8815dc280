"""Hinge loss GAN (SN-GAN / BigGAN's loss) on the ring, otherwise configs/gan.py.

python -m gan_jax.main --config=configs/hinge.py --workdir=runs/hinge
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.objective = "hinge"
    return config
