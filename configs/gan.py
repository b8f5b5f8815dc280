"""The plain (k = 0) non-saturating GAN with everything else as configs/unrolled.py: the
collapsing baseline of Metz et al. 2016, Figure 1 (bottom row).

  python -m gan_jax.main --config=configs/gan.py --workdir=runs/gan
"""

from configs import unrolled


def get_config():
    config = unrolled.get_config()
    config.unroll.steps = 0
    return config
