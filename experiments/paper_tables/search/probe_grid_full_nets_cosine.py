"""Recipe search on the grid, step 16 (issue 23, item 3): step 15 (probe_grid_full_nets.py,
PacGAN's nets on the recipe's budget, packing 2 and 4) with both players' rates on a cosine
schedule to a tenth of their start (`best_ring.decay_rates`, step 12's schedule).

Why: in step 15 the EMA G of the big nets reached the highest grid HQ yet (87 % at packing 2)
but the raw G kept moving to the end (packing 4, seeds 0-9, the last six evals: mean modes
22.8-23.9, HQ 49-59 % against its EMA's 62-75 %): the rates tuned for the small nets keep the big
ones moving. Decaying them is the standard cure for a late oscillation. The rule is step 15's,
fixed before the run.

  bash experiments/paper_tables/search/gpu_full_nets.sh 330 probe_grid_full_nets_cosine
  python experiments/paper_tables/recipe.py runs/search/probe_grid_full_nets_cosine/pack2 \
      runs/search/probe_grid_full_nets_cosine/pack4 grid
"""

import ml_collections

from configs import best_ring
from experiments.paper_tables.search import probe_grid_full_nets


def get_config(packs: str = "2,4") -> ml_collections.ConfigDict:
    """`packs`: the packing degrees swept, comma-separated (one per process: ":2", ":4")."""
    return best_ring.decay_rates(probe_grid_full_nets.get_config(packs))
