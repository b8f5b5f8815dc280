"""Recipe search, step 1 (seed 0 only): which learning rates let a small PacGAN2 with an EMA of
G reach the ring targets within 10,000 steps.

  python -m gan_jax.main --config=experiments/paper_tables/search/probe_ring.py \
      --workdir=runs/search/probe_ring
"""

import ml_collections

from configs.paper import pacgan_ring


def get_config(data: str = "ring"):
    config = pacgan_ring.get_config("2", data)
    config.model.g.hidden_sizes = (128, 128, 128)
    config.model.d.hidden_sizes = (128, 128)
    config.ema.enabled = True
    config.ema.decay = 0.999
    config.num_steps = 10_000
    config.eval_every = 1_000
    config.checkpoint_every = 5_000
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=1,
            grid=dict(
                optim=dict(
                    g=dict(learning_rate=(1e-4, 3e-4, 1e-3)),
                    d=dict(learning_rate=(1e-4, 3e-4, 1e-3)),
                )
            ),
        )
    )
    return config
