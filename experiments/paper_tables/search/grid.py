"""The grid recipe (configs/best_grid.py: the best of the seed-0 probe, probe_grid.py) on the
search seeds 0-9.

  python -m gan_jax.main --config=experiments/paper_tables/search/grid.py \
      --workdir=runs/search/grid
"""

import ml_collections

from configs import best_grid


def get_config():
    config = best_grid.get_config("200")
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
