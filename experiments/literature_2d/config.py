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

# Cheapest first (ms per step on one core of this CPU: pacgan4 3.7, gan 4.2, pacgan2 4.2,
# mode_seeking 4.9, veegan 9.2, ali 10.4, wgan_gp 25.6, unrolled 38.0, gdpp 51.4), so that a
# sweep stopped early has the most methods finished on both data sets; group order changes no
# run (runs are named and seeded by their config, not their position).
BY_COST = (
    "gan",
    "pacgan2",
    "pacgan4",
    "mode_seeking",
    "veegan",
    "ali",
    "wgan_gp",
    "unrolled",
    "gdpp",
)
assert sorted(BY_COST) == sorted(literature.METHODS)


def get_config() -> ml_collections.ConfigDict:
    config = literature.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=10,
            configs=tuple(
                f"literature:{method}-{data}" for method in BY_COST for data in literature.DATA
            ),
        )
    )
    return config
