"""DCGAN (Radford et al. 2015) on scikit-learn's 8x8 digits: the offline image run that a
2-core CPU trains in minutes, with the classifier metrics (FD, precision, recall, IS analogue)
at every eval.

  python -m gan_jax.main --config=configs/digits_dcgan.py --workdir=runs/digits_dcgan

G: z (64) -> 4x4x128 -> 8x8x1 (one upsampling block), D: 8x8x1 -> 4x4x64 -> logit; the DCGAN
recipe otherwise: non-saturating loss, Adam lr 2e-4, beta1 0.5, batch 64, alternating updates.
The first eval trains (or loads) the digits classifier under $GAN_JAX_CACHE.
"""

import ml_collections

from configs import default


def _adam(learning_rate: float) -> ml_collections.ConfigDict:
    return default.optimizer(
        "adam", learning_rate=learning_rate, b1=0.5, b2=0.999, eps=1e-8, eps_root=0.0
    )


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config()
    config.data.name = "digits"
    config.objective = "nonsaturating"
    config.update_order = "alternating"
    config.batch_size = 64
    config.num_steps = 10_000
    config.eval_every = 1_000
    config.checkpoint_every = 2_000
    config.model.g = ml_collections.ConfigDict(
        dict(name="dcgan", latent_dim=64, base_features=64, upsample="transpose")
    )
    config.model.d = ml_collections.ConfigDict(
        dict(name="dcgan", base_features=64, spectral_norm=False)
    )
    config.optim.g = _adam(2e-4)
    config.optim.d = _adam(2e-4)
    config.eval.num_samples = 1_000
    config.eval.plot_samples = 64
    return config
