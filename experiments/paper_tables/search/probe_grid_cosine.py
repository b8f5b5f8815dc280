"""Recipe search on the grid, step 12 (issue 23, item 3): the grid recipe (configs/best_grid.py,
PacGAN2, batch 512) with both players' rates on a cosine from 1 to 0.1 of their start over the
25,000 steps (`optim.*.schedule`), the decay that took the ring's literature GAN from its late
jumps to every mode at every late eval (ring step 8). Seeds 0-4.

Why: grid step 4's linear decay to 0 steadied every seed (all modes at every eval of the last
fifth in 5 of 5) but halved the mean rate and with it HQ (50.8 %); a cosine to 0.1 keeps the
rate near its start for longer and ends ten times higher.

The rule, fixed before the run (grid step 8's): it goes on (to seeds 5-9, then 100-109) only if
its EMA G meets more targets than the recipe's seeds 0-4 (one: the modes), or as many with at
least as many modes, a higher HQ and a lower KL.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_cosine.py \
      --workdir=runs/search/probe_grid_cosine
  python experiments/paper_tables/recipe.py runs/search/probe_grid_cosine grid
"""

import ml_collections

from configs import best_grid, best_ring


def get_config() -> ml_collections.ConfigDict:
    config = best_ring.decay_rates(best_grid.get_config("512"))
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
