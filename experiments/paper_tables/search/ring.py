"""The first ring recipe (`configs/best_ring.py`'s `pacgan2_recipe`) on the search seeds 0-9 at
the learning rate after `:` (both players; 3e-4 by default); each is confirmed on seeds 100-109
by confirm_ring.py.

  python -m gan_jax.main --config=experiments/paper_tables/search/ring.py \
      --workdir=runs/search/ring_3e-4
  python -m gan_jax.main --config=experiments/paper_tables/search/ring.py:5e-4 \
      --workdir=runs/search/ring_5e-4
"""

import ml_collections

from configs import best_ring


def get_config(learning_rate: str = "3e-4"):
    config = best_ring.pacgan2_recipe(learning_rate)
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
