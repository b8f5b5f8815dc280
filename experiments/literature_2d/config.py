"""The mode-collapse literature in one sweep (issue 23): GAN, ALI, unrolled (k = 5), VEEGAN,
WGAN-GP, GDPP, PacGAN2, PacGAN4 and mode seeking on the ring and the grid, on VEEGAN's / GDPP's
protocol (configs/literature.py), 10 seeds each, DRS evaluated beside the raw G where D scores
one sample alone.

  python -m gan_jax.main --config=experiments/literature_2d/config.py --workdir=runs/literature_2d

180 runs, 18 compiled groups, 25,000 steps each: sized for an accelerator, where a group's 10
seeds are one vmapped program. Rerunning the command resumes every unfinished run.
"""

import ml_collections

from configs import literature


def get_config() -> ml_collections.ConfigDict:
    config = literature.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=10,
            configs=tuple(
                f"literature:{method}-{data}"
                for data in literature.DATA
                for method in literature.METHODS
            ),
        )
    )
    return config
