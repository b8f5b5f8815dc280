"""The chosen ring recipe (configs/best_ring.py, its default learning rate) on the confirmation
seeds 100-109, never used while searching.

  python -m gan_jax.main --config=experiments/paper_tables/search/confirm_ring.py \
      --workdir=runs/confirm/ring
"""

import ml_collections

from configs import best_ring


def get_config():
    config = best_ring.get_config()
    config.seed = 100
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
