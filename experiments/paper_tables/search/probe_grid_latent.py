"""Recipe search on the grid, step 11 (issue 23, item 3): the grid recipe (configs/best_grid.py,
PacGAN2, batch 512) with z of the dimension after `:` (256, the literature protocol's) instead
of PacGAN's 2. Seeds 0-4.

Why: the recipe's EMA G leaves ~11 % of its samples 10-20 sigma from every mode, between them,
where a continuous G must pass from one mode to the next. From a 2-D z a 3-layer ReLU G has to
cut the plane into 25 cells, each cell's border mapping between modes; from a 256-D z the cells
are regions of a space where almost all mass lies away from any one border (the ring's
literature GAN, z in R^256, puts half its samples within 0.4 sigma of a centre). Only G's first
layer grows (2 x 128 -> 256 x 128 weights).

The rule, fixed before the run (grid step 8's): it goes on (to seeds 5-9, then 100-109) only if
its EMA G meets more targets than the recipe's seeds 0-4 (one: the modes), or as many with at
least as many modes, a higher HQ and a lower KL.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_latent.py:256 \
      --workdir=runs/search/probe_grid_latent_256
  python experiments/paper_tables/recipe.py runs/search/probe_grid_latent_256 grid
"""

import ml_collections

from configs import best_grid


def get_config(latent_dim: str = "256") -> ml_collections.ConfigDict:
    config = best_grid.get_config("512")
    config.model.g.latent_dim = int(latent_dim)
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
