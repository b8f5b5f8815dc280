"""Balance and mode collapse across objectives: NS-GAN, LSGAN, WGAN-GP, hinge, EBGAN, BEGAN,
NS-GAN + minibatch discrimination, NS-GAN + unrolled k = 5; ring and grid; 5 seeds each.

  python -m gan_jax.main --config=experiments/balance/config.py --workdir=runs/balance

Each variant is its own config file under configs/ (the paper's loss with the ring networks of
Metz et al. 2016); every run is set to 10,000 steps with an eval every 500.
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            configs=("gan", "lsgan", "wgan_gp", "hinge", "ebgan", "began", "minibatch", "unrolled"),
            set=dict(num_steps=10_000, eval_every=500, checkpoint_every=5_000),
            grid=dict(data=dict(name=("ring", "grid"))),
        )
    )
    return config
