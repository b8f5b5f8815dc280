"""Recipe search on the grid, step 18 (issue 23, item 3): the grid recipe (configs/best_grid.py,
grid step 16) read through DRS with the "budget" gamma rule and through MH-GAN, both with D's
logit times 1.5 and 100 candidates per sample (MH: proposals per chain), at packing 4 (the
recipe's) or 3 (`:3`, step 17's, batch 504).

Why (README, grid step 18, measured by experiments/paper_tables/drs_ceiling.py on step 17's final
checkpoints, seeds 0-2): from a pool of 20 candidates per sample (an eval's) the lowest KL any
selection at HQ 93 % can have is 0.046 on average (0.013-0.071); from 100 the pool allows ~0 and
what a sampler reads from D is the bound. A trained D's mean logit per mode tracks the log ratio of
the mode masses at a slope of 0.58-0.66 (correlation 0.97-0.99): read as trained it corrects rare
modes too softly. DRS at the 0.98 quantile accepts a quarter of its pool, which caps the weight of a
rare mode; the budget rule accepts as few as the request allows (exact rejection sampling when the
pool affords it) and a scale of 1.5 reads D's logit closer to the ratio. There, at packing 3, 20
candidates: KL 0.205 -> 0.115, HQ 93.4 -> 94.1 %, 25 modes both; 100 candidates: 0.057, HQ 93.5 %,
25 modes. MH-GAN at the same scale and 100 proposals: 25 / 94.0 % / 0.049.

The rule, fixed before the run: as step 14's. A row on seeds 0-9 goes on to seeds 100-109 if it
meets more targets than the recipe's best row (step 16, packing 4, DRS: the modes, and steady) or as
many with at least as many modes, a higher HQ and a lower KL; a row that then confirms under the
same rule replaces `configs/best_grid.py`. An eval with the samplers reads ~24 million packed-D
logits per run (DRS's 250,000 candidates and MH's 5,000 chains of 100, each through 8 partner packs
in every slot), ~15x step 16's evals: ~4-5 min per run on this CPU (the DRS pool alone took ~90 s
per run in drs_ceiling.py). The rule reads the samplers at the final eval and at every eval of the
last fifth only, so they run from step 20,000 on (`eval.samplers_from_step`: 6 of the 26 evals;
the evals before log the raw and EMA G as always): ~30 min of evals per run on this CPU besides
11-19 min of training (grid step 19's retraining of step 17's runs), ~8 h for ten seeds. This
step is for an accelerator, seeds 0-9 first (2 groups of 10 in a few minutes on one H200 is an
estimate, not a measurement; the sweeps resume if the limit cuts them):

  PACKS="3 4" SEED_SETS=0 bash experiments/paper_tables/search/gpu_full_nets.sh 480 \
      probe_grid_budget_drs
  PACKS=<the packing that goes on> SEED_SETS=100 bash \
      experiments/paper_tables/search/gpu_full_nets.sh 480 probe_grid_budget_drs
"""

import ml_collections

from configs import best_grid


def get_config(pack: str = "4") -> ml_collections.ConfigDict:
    if pack not in ("3", "4"):
        raise ValueError(f"probe_grid_budget_drs.py:{pack}: the packing is 3 or 4")
    config = best_grid.full_nets_recipe()
    config.model.d.pack = int(pack)
    if pack == "3":
        config.batch_size = 504  # 168 packs of three (step 17)
    config.eval.samplers = ("drs", "mh")
    config.eval.drs_gamma_rule = "budget"
    config.eval.sampler_logit_scale = 1.5
    config.eval.sampler_candidates = 100
    config.eval.samplers_from_step = 20_000  # the last fifth, all the rule reads
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
