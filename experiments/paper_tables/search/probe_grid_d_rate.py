"""Recipe search on the grid, step 5 (seeds 0-2): a wider two time-scale gap. The grid recipe
(configs/best_grid.py) trains G at 3e-4 and D at 1e-3; equal rates did not learn the grid in the
seed-0 probe (probe_grid.py). Here D runs at 2e-3 and 3e-3, G at 3e-4, 25,000 steps.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_d_rate.py \
      --workdir=runs/search/probe_grid_d_rate
"""

import ml_collections

from configs import best_grid


def get_config():
    config = best_grid.get_config("200")
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=3, grid=dict(optim=dict(d=dict(learning_rate=(2e-3, 3e-3)))))
    )
    return config
