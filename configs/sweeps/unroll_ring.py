"""Sweep: unroll steps k in {0, 1, 5, 10} x 5 seeds on the ring (Metz et al. 2016).

One compiled program per k (k is static); the seeds of each k are one vmapped, sharded axis.

  python -m gan_jax.main --config=configs/sweeps/unroll_ring.py --workdir=runs/unroll_ring
  python -m gan_jax.main --config=configs/sweeps/unroll_ring.py --config.sweep.seeds=10 ...
"""

import ml_collections

from configs import unrolled


def get_config():
    config = unrolled.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=5, grid=dict(unroll=dict(steps=(0, 1, 5, 10))))
    )
    return config
