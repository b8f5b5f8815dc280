"""The first ring recipe (`configs/best_ring.py`'s `pacgan2_recipe`) on the confirmation seeds
100-109, never used while searching, at the learning rate after `:` (3e-4 by default).

  python -m gan_jax.main --config=experiments/paper_tables/search/confirm_ring.py \
      --workdir=runs/confirm/ring
  python -m gan_jax.main --config=experiments/paper_tables/search/confirm_ring.py:5e-4 \
      --workdir=runs/confirm/ring_5e-4
"""

import ml_collections

from configs import best_ring


def get_config(learning_rate: str = "3e-4"):
    config = best_ring.pacgan2_recipe(learning_rate)
    config.seed = 100
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
