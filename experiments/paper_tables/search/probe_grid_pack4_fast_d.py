"""Recipe search on the grid, step 14 (issue 23, item 3): PacGAN4 (step 6) with D at 2e-3
(step 5's faster D; G stays at 3e-4), batch 512, read through DRS over its packed D at the
0.98 quantile (step 13's, `samplers.packed_logit`). Seeds 0-4.

Why: step 5's faster D reached the highest grid HQ of any sweep (EMA G 84.9 %) but kept 21 of
25 modes; step 6's PacGAN4 kept every mode in 4 of 5 seeds at HQ 64.5 %. Packing four is the
stronger guard on modes, so it may keep them under the faster D; DRS then adds its ~13 points
(step 13).

The rule, fixed before the run (grid step 8's, a DRS row counting as a sampler): it goes on
(to seeds 5-9, then 100-109) only if its EMA or DRS row meets more targets than the recipe's
EMA G on seeds 0-4 (one: the modes), or as many with at least as many modes, a higher HQ and a
lower KL.

Run as two processes, one per core (a run is named and seeded by its seed, so it is the same run
in either workdir):

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_pack4_fast_d.py \
      --workdir=runs/search/probe_grid_pack4_fast_d --config.sweep.seeds=3
  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_pack4_fast_d.py \
      --workdir=runs/search/probe_grid_pack4_fast_d_b --config.seed=3 --config.sweep.seeds=2
  python experiments/paper_tables/recipe.py runs/search/probe_grid_pack4_fast_d grid
"""

import ml_collections

from configs import best_grid


def get_config() -> ml_collections.ConfigDict:
    config = best_grid.get_config("512")
    config.model.d.pack = 4
    config.optim.d.learning_rate = 2e-3
    config.eval.samplers = ("drs",)
    config.eval.drs_gamma_quantile = 0.98
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
