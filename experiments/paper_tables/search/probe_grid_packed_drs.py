"""Recipe search on the grid, step 13 (issue 23, item 3): the grid recipe (configs/best_grid.py,
PacGAN2, batch 512) read through DRS over its packed D, each sample scored by packing it with
fixed G samples in every slot (`gan_jax.step.samplers.packed_logit`). Seeds 0-4.

Why: the recipe keeps every mode because D is packed (an unpacked D lost modes, grid step 10),
and a packed D could not score one sample, so DRS was out of reach; about a quarter of the
recipe's samples lie outside 3 sigma of every mode. The optimal packed D's logit is additive over
its slots, so the packed sample's mean logit is its log ratio plus a constant. The quantile
(the argument after `:`) is chosen on grid step 12's final checkpoints by
experiments/paper_tables/choose_drs_quantile.py (its docstring holds that rule); training is the
recipe's, to the bit (a sampler changes no training number).

The rule, fixed before the run (grid step 8's, the DRS row counting as a sampler): it goes on
(to seeds 5-9, then 100-109) only if its DRS or EMA row meets more targets than the recipe's EMA
G on seeds 0-4 (one: the modes), or as many with at least as many modes, a higher HQ and a lower
KL.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_packed_drs.py:0.98 \
      --workdir=runs/search/probe_grid_packed_drs_0.98
  python experiments/paper_tables/recipe.py runs/search/probe_grid_packed_drs_0.98 grid
"""

import ml_collections

from configs import best_grid


def get_config(quantile: str = "0.98") -> ml_collections.ConfigDict:
    config = best_grid.get_config("512")
    config.eval.samplers = ("drs",)
    config.eval.drs_gamma_quantile = float(quantile)
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
