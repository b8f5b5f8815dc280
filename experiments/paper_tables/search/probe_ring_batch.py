"""Recipe search on the ring, step 5 (seeds 0-4): the grid's best change, a batch of 512 samples
(256 packs of two, the issue's largest), on the ring recipe (configs/best_ring.py, batch 200:
HQ 91.1 % on the confirmation seeds against the 95 % target). Started at the end of a session;
rerunning the command resumes it.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_ring_batch.py \
      --workdir=runs/search/probe_ring_batch
"""

import ml_collections

from configs import best_ring


def get_config():
    config = best_ring.get_config()
    config.batch_size = 512
    config.sweep = ml_collections.ConfigDict(dict(seeds=5))
    return config
