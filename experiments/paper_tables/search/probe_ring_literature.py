"""Recipe search on the ring, step 7 (issue 23, item 3): the literature protocol's GAN on
PacGAN's ring, with an EMA of G and discriminator rejection sampling beside it.

On the Metz ring (radius 2, std 0.02: PacGAN's ring scaled by 2, so the same 3-sigma test
relative to the radius) the literature sweep's plain GAN (configs/literature.py:gan-ring: G and
D 2 x 128 tanh MLPs, z in R^256, batch 512, Adam G 1e-3 / D 1e-4, b1 0.5) covered 8 of 8
modes in 10 of 10 seeds at HQ 88.7 % and reverse KL 0.003, the lowest KL of any ring setting
here; the shipped ring recipe (configs/best_ring.py) has 91.1 % and 0.053. This runs that GAN
on PacGAN's ring itself (radius 1, std 0.01, 100,000 points drawn once from PRNGKey(0)) with an
EMA of G (decay 0.999, as the recipes), seeds 0-9, 25,000 steps; DRS is evaluated on the raw
G at every eval ("drs/", a sampler: reported as such).

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_ring_literature.py \
      --workdir=runs/search/probe_ring_literature
  python experiments/paper_tables/recipe.py runs/search/probe_ring_literature ring
"""

import ml_collections

from configs import literature
from configs.paper import pacgan_ring


def get_config():
    config = literature.get_config("gan-ring")
    pacgan_ring.use_pacgan_data(config)
    config.ema.enabled = True
    config.ema.decay = 0.999
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
