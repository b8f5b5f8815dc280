"""Mode collapse vs unroll steps (Metz et al. 2016): k in {0, 1, 5, 10} x 10 seeds, ring and grid.

  python -m gan_jax.main --config=experiments/mode_collapse/config.py --workdir=runs/mode_collapse

Protocol: configs/unrolled.py (Metz et al.'s ring networks and optimizers, simultaneous
updates, second-order unrolling) for 10,000 steps on both mixtures; 2,500 samples per eval.
"""

import ml_collections

from configs import unrolled


def get_config():
    config = unrolled.get_config()
    config.num_steps = 10_000
    config.eval_every = 500
    config.checkpoint_every = 5_000
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=10, grid=dict(data=dict(name=("ring", "grid")), unroll=dict(steps=(0, 1, 5, 10)))
        )
    )
    return config
