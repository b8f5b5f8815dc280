"""Which fixes stop a GAN from circling? The plain NS-GAN (simultaneous steps) and each fix on
the 8-Gaussian ring, 5 seeds each, as one sweep:

  python -m gan_jax.main --config=experiments/oscillation/config.py --workdir=runs/oscillation

Variants are the config files under configs/: gan (the baseline), alternating, consensus,
optimistic (Adam), extragradient, r1, unrolled (k = 5) and ttur. Every run is 10,000 steps with
an eval every 500, the protocol of experiments/balance.
"""

import ml_collections

from configs import gan


def get_config():
    config = gan.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            configs=(
                "gan",
                "alternating",
                "consensus",
                "optimistic",
                "extragradient",
                "r1",
                "unrolled",
                "ttur",
            ),
            set=dict(num_steps=10_000, eval_every=500, checkpoint_every=5_000),
        )
    )
    return config
