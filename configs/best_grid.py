"""The best grid recipe found by experiments/paper_tables (README there, grid steps 15-16). It does
NOT reach all of PacGAN Table 1's PacGAN4 targets (24.8 modes, HQ 93 %, reverse KL 0.04,
steady). PacGAN's grid (25 modes on {-4,-2,0,2,4}^2, std 0.05, 100,000 points), PacGAN4 with
PacGAN's own networks, trained in 25,000 steps of batch 512 with decaying rates and read through
discriminator rejection sampling (DRS) over its packed D:

| seeds | G | modes | every mode | HQ % | reverse KL | targets met |
| --- | --- | --- | --- | --- | --- | --- |
| 0-9 (search) | raw G + DRS (sampler) | 25.0 | 10 of 10 | 82.6 | 0.165 | modes, steady |
| 0-9 | EMA G | 24.9 | 9 of 10 | 66.6 | 0.255 | modes |
| 100-109 (confirmation) | raw G + DRS (sampler) | 24.9 | 9 of 10 | 78.2 | 0.174 | modes |
| 100-109 | EMA G | 24.9 | 9 of 10 | 62.1 | 0.286 | modes |

(measured on one H200, experiments/paper_tables/search/gpu_full_nets.sh; a CPU run of the same
seeds trains other floats, see the README's "Bit-identical means"). The small-net recipe it
replaces (`configs/best_grid.py:512`) met none: 24.6 modes, HQ 78.9 %, KL 0.218 on seeds 0-9.

  python -m gan_jax.main --config=configs/best_grid.py --workdir=runs/best_grid
  python -m gan_jax.main --config=configs/best_grid.py:512 --workdir=runs/best_grid_small

The setting (configs/paper/pacgan_grid.py:4 with these changes): G 4 x 400 BatchNorm-ReLU
layers and D 3 x 200 maxout layers (5 pieces), PacGAN's; Adam (b1 0.8) with G at 3e-4 and D at
1e-3 (a two time-scale update), both on a cosine from 1 to 0.1 of the start over the 25,000 steps;
an EMA of G's weights with decay 0.999 (Yazici et al. 2019), its metrics under "ema/"; a batch
of 512 samples (128 packs of four); DRS at every eval over D read per sample through fixed packs
of G samples (`gan_jax.step.samplers.packed_logit`), gamma at the 0.98 quantile (grid step 13).
It needs an accelerator: 10 seeds take 3.7 minutes on one H200 and hours on a 2-core CPU.

The argument, when given, is a batch size and selects the small-net recipe the grid steps 1-14
built on (PacGAN2, G 3 x 128, D 2 x 128, constant rates): 512 is grid step 3's, 200 the first.
"""

import ml_collections

from configs import best_ring
from configs.paper import pacgan_grid


def small_recipe(batch_size: int) -> ml_collections.ConfigDict:
    """Grid steps 1-14's recipe: PacGAN2 with G 3 x 128, D 2 x 128, G at 3e-4 and D at 1e-3, an
    EMA of G, 25,000 steps of `batch_size` samples."""
    config = best_ring.small_with_ema(pacgan_grid.get_config("2"), 3e-4, 1e-3)
    config.batch_size = batch_size
    return config


def with_pacgan_nets(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """`config` with PacGAN's networks (G 4 x 400, D 3 x 200 maxout) and DRS over its packed D at
    the 0.98 quantile evaluated at every eval (grid steps 15-17)."""
    paper = pacgan_grid.get_config()
    config.model.g.hidden_sizes = paper.model.g.hidden_sizes
    config.model.d.hidden_sizes = paper.model.d.hidden_sizes
    config.eval.samplers = ("drs",)
    config.eval.drs_gamma_quantile = 0.98
    return config


def full_nets_recipe() -> ml_collections.ConfigDict:
    """Grid step 16's recipe (the module docstring): PacGAN4 with PacGAN's networks, decaying
    rates and packed DRS, on the small recipe's budget and rates."""
    config = with_pacgan_nets(small_recipe(512))
    config.model.d.pack = 4
    return best_ring.decay_rates(config)


def classifier_recipe(pack: int = 3, candidates: int = 100) -> ml_collections.ConfigDict:
    """Grid step 20's configuration (experiments/paper_tables/search/
    probe_grid_ratio_classifier.py): the full-net recipe at packing `pack` (3: batch 504, 168
    packs of three) read through DRS ("budget" gamma) and MH-GAN with `candidates` per sample,
    both reading a classifier fit to G (40,000 Adam steps, `gan_jax.step.ratio_classifier`)
    instead of D, at every eval from step 20,000 (the last fifth)."""
    config = full_nets_recipe()
    config.model.d.pack = pack
    if pack == 3:
        config.batch_size = 504
    config.eval.samplers = ("drs", "mh")
    config.eval.drs_gamma_rule = "budget"
    config.eval.sampler_candidates = candidates
    config.eval.sampler_ratio = "classifier"
    config.eval.ratio_classifier_steps = 40_000
    config.eval.samplers_from_step = 20_000
    return config


def get_config(batch_size: str = "") -> ml_collections.ConfigDict:
    if not batch_size:
        return full_nets_recipe()
    if not batch_size.isdigit() or int(batch_size) < 1:
        raise ValueError(
            f"configs/best_grid.py:{batch_size}: give no argument (the full-net recipe) or a "
            "batch size for the small-net recipe, e.g. configs/best_grid.py:512"
        )
    return small_recipe(int(batch_size))
