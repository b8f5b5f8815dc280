"""Recipe search on the grid, step 4 (seeds 0-4): does decaying both players' learning rates
linearly to zero over the 25,000 steps (`optim.*.schedule`) sharpen the grid recipe
(configs/best_grid.py, constant rates)? Grid search (grid.py), constant rates: EMA HQ 71.8 %,
reverse KL 0.27 on seeds 0-9.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_schedule.py \
      --workdir=runs/search/probe_grid_schedule
"""

import ml_collections

from configs import best_grid


def get_config():
    config = best_grid.get_config("200")
    for player in ("g", "d"):
        config.optim[player].update(
            schedule="linear", schedule_steps=config.num_steps, schedule_final=0.0
        )
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
