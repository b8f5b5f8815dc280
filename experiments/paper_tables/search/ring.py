"""The ring recipe (configs/best_ring.py) at two learning rates (both players) on the search seeds
0-9; the chosen one is confirmed on seeds 100-109 by confirm_ring.py.

  python -m gan_jax.main --config=experiments/paper_tables/search/ring.py \
      --workdir=runs/search/ring_lr
"""

import ml_collections

from configs import best_ring


def get_config():
    config = best_ring.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=10, configs=("best_ring:1e-4", "best_ring:3e-4"))
    )
    return config
