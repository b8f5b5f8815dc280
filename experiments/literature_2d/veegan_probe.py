"""Why VEEGAN lands far below its published row here (issue 23, item 2; literature sweep: 2.3
modes and 0.1 % HQ on the ring against the published 8.0 and 52.9 %), 5 seeds each, ring:

- veegan_dim_mean: the reconstruction ||z - F(G(z))||^2 averaged over z's 256 dimensions instead
  of summed (weight 1/256), so that it no longer outweighs the adversarial term ~250 to 1;
- veegan_stochastic: F a Normal with a learned scale, D's real pairs carrying draws z ~ F(x),
  G and F trained on -log F(z | G(z)) (configs/literature.py, STOCHASTIC_F);
- veegan_stochastic_fast_d: that, with D at 1e-3 as in the authors' 2D notebook.

  python -m gan_jax.main --config=experiments/literature_2d/veegan_probe.py \
      --workdir=runs/veegan_probe

The reference is the main sweep's veegan-ring (the same runs for seeds 0-4 at weight 1).
"""

import ml_collections

from configs import literature

PROBES = (
    "veegan_dim_mean-ring",
    "veegan_stochastic-ring",
    "veegan_stochastic_fast_d-ring",
)


def get_config() -> ml_collections.ConfigDict:
    return literature.probe_sweep(PROBES)
