"""The ring recipe (configs/best_ring.py, learning rate 3e-4 for both players, chosen after the
probe on seed 0 and the lr 1e-3 search dropped modes: README) on the search seeds 0-9; it is
confirmed on seeds 100-109 by confirm_ring.py.

  python -m gan_jax.main --config=experiments/paper_tables/search/ring.py \
      --workdir=runs/search/ring_3e-4
"""

import ml_collections

from configs import best_ring


def get_config():
    config = best_ring.get_config()
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
