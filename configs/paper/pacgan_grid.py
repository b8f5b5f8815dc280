"""PacGAN's 2D-grid protocol (Lin et al. 2018, Sec. 5 and App. E): 25 modes on
{-4, -2, 0, 2, 4}^2, std 0.05, everything else as configs/paper/pacgan_ring.py.

  python -m gan_jax.main --config=configs/paper/pacgan_grid.py --workdir=runs/pacgan_grid
  python -m gan_jax.main --config=configs/paper/pacgan_grid.py:4 --workdir=runs/pacgan4_grid

The argument after `:` is the packing degree m (default 1: the plain GAN).
"""

from configs.paper import pacgan_ring


def get_config(pack: str = "1"):
    config = pacgan_ring.get_config(pack, data_name="grid")
    config.data.spacing, config.data.std = 2.0, 0.05
    return config
