"""Ring step 13 (issue 23, item 3), part 2: ring step 11 (probe_ring_literature_cosine.py:
3e-4,minimax, shipped as configs/best_ring.py) with DRS at the gamma quantile after `:`
(`eval.drs_gamma_quantile`), on seeds 0-9; with `,confirm` after it, on the confirmation seeds
100-109.

experiments/paper_tables/choose_drs_quantile.py chose 0.3 on step 11's final checkpoints of
seeds 0-9 (HQ 96.5 %, KL 0.034 over 30 draws; 0.4 reached KL 0.050, 0.5 0.064). Training is
step 11's to the bit (a sampler reads G and D, and writes nothing they train on), so the raw
and EMA rows repeat step 11's; this run adds DRS's number at every eval, which the steady
target needs.

The rules, fixed before either sweep ran:
- seeds 0-9: DRS at the quantile goes to confirmation if it meets all four targets there (the
  EMA G of step 11 met three; HQ was the one missed).
- seeds 100-109: it replaces configs/best_ring.py's reading (the EMA G; three targets there,
  HQ 90.8 %) if DRS meets all four targets, a sampler reported as such. The confirmation seeds
  were looked at once before this choice (choose_drs_quantile.py's docstring), at quantiles
  0.5 / 0.8 / 0.95, not at the one chosen.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_ring_drs_quantile.py:0.3 \
      --workdir=runs/search/probe_ring_drs_quantile_0.3
  python -m gan_jax.main \
      --config=experiments/paper_tables/search/probe_ring_drs_quantile.py:0.3,confirm \
      --workdir=runs/confirm/ring_drs_quantile_0.3
  python experiments/paper_tables/recipe.py runs/search/probe_ring_drs_quantile_0.3 ring
"""

import os
import runpy

import ml_collections


def _step_11() -> ml_collections.ConfigDict:
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "probe_ring_literature_cosine.py"
    )
    return runpy.run_path(path)["get_config"]("3e-4,minimax")


def get_config(arg: str = "0.3") -> ml_collections.ConfigDict:
    quantile, _, which = arg.partition(",")
    config = _step_11()
    assert "drs" in config.eval.samplers
    config.eval.drs_gamma_quantile = float(quantile)
    if which == "confirm":
        config.seed = 100
    elif which:
        raise ValueError(f"{arg!r}: after the quantile, only ',confirm' is understood")
    return config
