"""Mode collapse on stacked digits (1,000 modes): unrolled k in {0, 1, 5, 10} x 5 seeds with a
small D, the CPU-scale analogue of Metz et al. 2016, Sec. 3.3 and Table 2 (stacked MNIST, D a
quarter of G's size).

  python -m gan_jax.main --config=experiments/stacked_digits/config.py --workdir=runs/stacked_digits

Data: three independent 8x8 digits as the RGB channels (gan_jax/parts/data/images.py). G: DCGAN,
z (64) -> 4x4x64 -> 8x8x3; D: DCGAN with a quarter of G's width, 8x8x3 -> 4x4x8 -> logit.
Non-saturating loss, Adam lr 2e-4 (beta1 0.5, eps_root 1e-8 for the second-order unroll),
simultaneous updates as in Metz et al. Modes and KL come from the digits classifier applied to
each channel of 2,000 samples, counted two ways: every sample (`modes_covered`, the field's) and
only samples whose three channels all lie on the manifold of real digits
(`recognized_modes_covered`; `gan_jax.metrics.images.recognized_stacks`: an untrained G counts 0).
Retired in favour of configs/metz_stacked_mnist.py:5k (README.md beside this file says why).
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.name = "stacked_digits"
    config.objective = "nonsaturating"
    config.update_order = "simultaneous"
    config.batch_size = 64
    config.model.g = ml_collections.ConfigDict(
        dict(name="dcgan", latent_dim=64, base_features=32, upsample="transpose")
    )
    config.model.d = ml_collections.ConfigDict(dict(name="dcgan", base_features=8))
    for player in ("g", "d"):
        config.optim[player].learning_rate = 2e-4
    config.eval.num_samples = 2_000
    config.eval.plot_samples = 64
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=5,
            grid=dict(unroll=dict(steps=(0, 1, 5, 10))),
            set=dict(num_steps=5_000, eval_every=500, checkpoint_every=2_500),
        )
    )
    return config
