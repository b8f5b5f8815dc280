"""Why WGAN-GP's HQ lands far below its published row here (issue 23, item 2; literature sweep:
8.2 % HQ on the ring and 3.7 % on the grid, against the published 59.6 % and 28.7 %), ring,
seeds 0-4:

- wgan_gp_g_fast: G at the protocol's learning rate, 1e-3 (VEEGAN's and GDPP's G rate), D at
  Gulrajani et al.'s 1e-4 as before. The main sweep trains both at Gulrajani et al.'s 1e-4
  because neither paper gives the rates behind its WGAN-GP row; its ring HQ was still rising at
  25,000 steps (0.7 % at 5k, 5.9 % at 17k, 8.2 % at 25k), and `spread.py` puts the samples near
  the modes but not in them (median 10.2 sigma), as a G that is still moving would.

The reading, fixed before any number of this probe was read: the rate explains the low HQ if
the probe's mean HQ over seeds 0-4 is at least half the published 59.6 % (>= 29.8 %) and above
the main sweep's WGAN-GP ring row (10 seeds) by `compare` (95 % CI of the difference above 0);
it explains part of it if only the second holds; else it does not. Ring only: a WGAN-GP run
costs 5 critic steps per G step (~14 minutes per seed on one core here), so the grid waits for
the ring's answer.

  python -m gan_jax.main --config=experiments/literature_2d/wgan_gp_probe.py \
      --workdir=runs/wgan_gp_probe
  python -m gan_jax.compare runs/wgan_gp_probe experiments/literature_2d/sweep/results.csv \
      --only=data.name=ring --baseline="config=literature:wgan_gp-ring" \
      --workdir=runs/wgan_gp_probe_compare     # the row config=literature:wgan_gp_g_fast-ring

The reference is the main sweep's wgan_gp-ring (seeds 0-9 at G lr 1e-4).
"""

import ml_collections

from configs import literature

PROBES = ("wgan_gp_g_fast-ring",)


def get_config() -> ml_collections.ConfigDict:
    return literature.probe_sweep(PROBES)
