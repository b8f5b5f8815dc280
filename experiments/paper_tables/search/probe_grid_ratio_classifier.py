"""Recipe search on the grid, step 20 (issue 23, item 3): step 17's G (the grid recipe,
configs/best_grid.py, at packing 3, batch 504) read through DRS ("budget" gamma) and MH-GAN with
100 candidates per sample, both reading a classifier fit to G at each eval
(`eval.sampler_ratio="classifier"`, gan_jax/step/ratio_classifier.py) instead of the GAN's D.

Why (README, grid steps 18-20): the GAN's D reads the modes' mass ratios at a slope of 0.56-0.70,
and read 1.5x sharper through the same samplers it left the KL at 0.057-0.062 over seeds 0-2 (the
target: 0.04). A classifier of real against G samples, fit from scratch to the final G (40,000 Adam
steps, `ratio_classifier`), gave on step 19's three final checkpoints (seeds 0-2, read by
experiments/paper_tables/ratio_classifier_check.py) MH 25 / 96.6 % / 0.024 and DRS 25 / 96.2 % /
0.031, where D read x 1.5 gave 25 / 93.2 % / 0.059 and 25 / 93.6 % / 0.062: every target but
steadiness, which final checkpoints cannot show. Three fits were tried on those seeds (3,000 and
15,000 steps at a constant rate, 40,000 on a cosine); the last is the default here, so those
three seeds chose it: the ten seeds below are its test.

The rule, fixed before the run: as step 18's. A row on seeds 0-9 goes on to seeds 100-109 if it
meets more targets than the recipe's best row (step 16, packing 4, DRS: the modes, and steady) or
as many with at least as many modes, a higher HQ and a lower KL; a row that then confirms under
the same rule replaces `configs/best_grid.py`. The samplers run from step 20,000 on, all the rule
reads (6 of 26 evals), each eval fitting one classifier per run (~80 s per run on this 2-core
CPU) and reading it, not the packed D, per candidate (seconds):

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_ratio_classifier.py \
      --workdir=runs/search/probe_grid_ratio_classifier --config.checkpoint_every=1000
  python experiments/paper_tables/recipe.py runs/search/probe_grid_ratio_classifier grid
  # then by the rule: the same with --config.seed=100 and the workdir ..._confirm

On an accelerator, packing 3 (this CPU run's) and the recipe's 4 (`:4`), seeds 0-9 first:

  PACKS="3 4" SEED_SETS=0 bash experiments/paper_tables/search/gpu_full_nets.sh 480 \
      probe_grid_ratio_classifier
"""

import ml_collections

from configs import best_grid


def get_config(pack: str = "3") -> ml_collections.ConfigDict:
    if pack not in ("3", "4"):
        raise ValueError(f"probe_grid_ratio_classifier.py:{pack}: the packing is 3 or 4")
    config = best_grid.classifier_recipe(int(pack), candidates=100)
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
