"""PacGAN's Table 1 protocol (configs/paper/) at a CPU budget: GAN, PacGAN2 and PacGAN4 on the
ring and the grid, 5 seeds each, learning curves every 500 steps.

  python -m gan_jax.main --config=experiments/paper_tables/config.py --workdir=runs/paper_tables

Everything is PacGAN's protocol except the length: `sweep.set.num_steps` (PacGAN: 400,000).
Raising it and rerunning the command continues every run from its last checkpoint.
"""

import ml_collections

from configs.paper import pacgan_ring

METHODS = ("", ":2", ":4")  # GAN, PacGAN2, PacGAN4 (the config argument is the packing degree)


def get_config():
    config = pacgan_ring.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            configs=tuple(f"paper.pacgan_{data}{m}" for data in ("ring", "grid") for m in METHODS),
            set=dict(num_steps=10_000, eval_every=500, checkpoint_every=1_000),
        )
    )
    return config
