"""Recipe search on the grid, step 3 (seeds 0-4, then grown to 0-9): does a batch of 512
samples (256 packs of two), the issue's largest, sharpen the grid recipe (configs/best_grid.py,
batch 200) within 25,000 steps? Grid search (grid.py) at batch 200: EMA HQ 71.8 %, reverse KL
0.27 on seeds 0-9.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_batch.py \
      --workdir=runs/search/probe_grid_batch
"""

import ml_collections

from configs import best_grid


def get_config():
    config = best_grid.get_config("512")
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))  # seeds 0-4 first, then grown
    return config
