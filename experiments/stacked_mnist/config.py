"""Metz et al. 2016, Table 2 on real digits at a CPU budget: configs/metz_stacked_mnist.py:5k
(stacked_mnist_5k, D a quarter of G's width, k in {0, 5}, 5 seeds, 2,000 steps). This file is
that config, so the experiment's folder holds its command like the others.

  python -m gan_jax.main --config=experiments/stacked_mnist/config.py --workdir=runs/metz_stacked_5k
"""

from configs import metz_stacked_mnist


def get_config():
    return metz_stacked_mnist.get_config("5k")
