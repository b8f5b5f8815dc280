"""GDPP-GAN (Elfeki et al. 2019, "GDPP: Learning Diverse Generations Using Determinantal Point
Processes", Eq. 4-6 and Table 1) on the 8-Gaussian ring: the GAN of configs/gan.py (the VEEGAN /
GDPP protocol: 2 x 128 tanh G, z in R^256, batch 512, Adam with G lr 1e-3 and D lr 1e-4) with
G also minimising the DPP loss between the eigen-decompositions of the kernels of D's normalised
last hidden features on a real and a fake batch (magnitude term weighted by 1e-4, as the
authors' code). Weight 1: their 2D code averages the GAN and GDPP losses, the same Adam updates.

  python -m gan_jax.main --config=configs/gdpp.py --workdir=runs/gdpp
  python -m gan_jax.main --config=configs/gdpp.py --config.data.name=grid --workdir=runs/gdpp_grid
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.g_regularizer.name = "gdpp"
    config.g_regularizer.weight = 1.0
    return config
