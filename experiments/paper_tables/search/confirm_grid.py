"""The small-net grid recipe (configs/best_grid.py:512, grid step 3) on the confirmation seeds
100-109, never used while searching. Rerunning the command resumes it.

  python -m gan_jax.main --config=experiments/paper_tables/search/confirm_grid.py \
      --workdir=runs/confirm/grid
"""

import ml_collections

from configs import best_grid


def get_config():
    config = best_grid.get_config("512")
    config.seed = 100
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
