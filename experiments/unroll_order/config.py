"""Second- vs first-order unrolling at equal k = 5, ring, 5 seeds.

  python -m gan_jax.main --config=experiments/unroll_order/config.py --workdir=runs/unroll_order

Same protocol as experiments/mode_collapse (10,000 steps); second order backpropagates through
the five Adam updates of D, first order treats the unrolled D as a constant.
"""

import ml_collections

from configs import unrolled


def get_config():
    config = unrolled.get_config()
    config.num_steps = 10_000
    config.eval_every = 500
    config.checkpoint_every = 5_000
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=5, grid=dict(unroll=dict(second_order=(True, False))))
    )
    return config
