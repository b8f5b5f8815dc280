"""Ring step 11 (probe_ring_literature_cosine.py:3e-4,minimax: the literature protocol's GAN on
PacGAN's ring, both rates on a cosine to 0.1, D at 3e-4, G on the minimax loss, EMA of G) on the
confirmation seeds 100-109, never used while searching.

Why: on seeds 0-9 its EMA G met three targets (modes, KL, steady) at HQ 91.1 %, as many as the
shipped recipe (configs/best_ring.py) on those seeds with a higher HQ (90.9 %), so by step 8's
rule it goes to confirmation. The rule here, fixed before any number of this sweep was read: it
replaces configs/best_ring.py if on seeds 100-109 its EMA G meets more targets than the recipe
did on them (two: modes and steady; HQ 91.1 %, KL 0.053), or as many with a higher HQ.

  python -m gan_jax.main --config=experiments/paper_tables/search/confirm_ring_literature.py \
      --workdir=runs/confirm/ring_literature
  python experiments/paper_tables/recipe.py runs/confirm/ring_literature ring
"""

import importlib.util
import os

import ml_collections


def _step_11():
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "probe_ring_literature_cosine.py"
    )
    spec = importlib.util.spec_from_file_location("probe_ring_literature_cosine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config("3e-4,minimax")


def get_config():
    config = _step_11()
    config.seed = 100
    config.sweep = ml_collections.ConfigDict(dict(seeds=10))
    return config
