"""Recipe search on the grid, step 15 (issue 23, item 3): PacGAN's own networks (G 4 x 400
BatchNorm-ReLU, D 3 x 200 maxout, 5 pieces; configs/paper/pacgan_grid.py) trained on the grid
recipe's budget and rates (configs/best_grid.py: G 3e-4, D 1e-3, b1 0.8, EMA 0.999, batch 512,
25,000 steps), packing 2 (the recipe's) and 4 (the PacGAN row that meets the targets at 400,000
steps), each read through DRS over its packed D at the 0.98 quantile (step 13's).

Why: every grid step so far used the recipe's small nets (G 3 x 128, D 2 x 128), chosen for the
CPU's budget, and stalled at HQ 77-79 %; session 17 found the limit is D's power to resolve the
grid's sigma = 0.05 modes. This is the one change left on that list: the nets PacGAN's table was
measured with. It needs a GPU (about 2x the small nets' FLOPs per step, x10 seeds): one H200
run trains seeds 0-9 and the confirmation seeds 100-109 in one command.

The rule, fixed before the run (step 14's): a variant goes on only if its EMA or DRS row on seeds
0-9 meets more targets than the recipe's EMA G on seeds 0-9 (24.6 modes, HQ 78.9 %, KL 0.218:
none), or as many with at least as many modes, a higher HQ and a lower KL; only then are its
seeds 100-109 read, and it ships (configs/best_grid.py) if it meets there what it met on 0-9.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_full_nets.py \
      --workdir=runs/search/probe_grid_full_nets/both
  python -m gan_jax.main --config=experiments/paper_tables/search/probe_grid_full_nets.py \
      --workdir=runs/search/probe_grid_full_nets/both_confirm --config.seed=100
  python experiments/paper_tables/recipe.py runs/search/probe_grid_full_nets/both grid

On one GPU, the four groups (pack 2 / 4 x seeds 0-9 / 100-109) as four processes at once:
`bash experiments/paper_tables/search/gpu_full_nets.sh` (what the H200 ran).
"""

import ml_collections

from configs import best_grid


def get_config(packs: str = "2,4") -> ml_collections.ConfigDict:
    """`packs`: the packing degrees swept, comma-separated (one per process: ":2", ":4")."""
    config = best_grid.with_pacgan_nets(best_grid.small_recipe(512))
    pack = tuple(int(m) for m in packs.split(","))
    grid = dict(model=dict(d=dict(pack=pack)))
    config.sweep = ml_collections.ConfigDict(dict(seeds=10, grid=grid))
    return config
