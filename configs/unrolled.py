"""Unrolled GAN on the 8-Gaussian ring (Metz et al. 2016, Sec. 3.1 and Figure 1).

G's loss is taken against D after k = 5 differentiable Adam updates (second order), D and G
updated simultaneously as in the paper. Covers all 8 modes; configs/gan.py is the same run with
k = 0, the collapsing baseline.

  python -m gan_jax.main --config=configs/unrolled.py --workdir=runs/unrolled
  python -m gan_jax.main --config=configs/unrolled.py --config.unroll.steps=10 --workdir=runs/k10
"""

from configs import default


def get_config():
    config = default.get_config()
    config.update_order = "simultaneous"
    config.unroll.steps = 5
    return config
