"""BEGAN (Berthelot et al. 2017) on CelebA at 64x64, for a GPU: the paper's autoencoder D
(ELU, code 64) and its equilibrium k_t (gamma = 0.5, lambda_k = 0.001), Adam lr 1e-4, batch 16.
Needs CelebA prepared for tfds (python -m gan_jax.parts.data.prepare --data=celeb_a); images are
center-cropped and resized to data.image_size once at load.

  python -m gan_jax.main --config=configs/celeba_began.py --workdir=runs/celeba_began \
      --config.data.tfds_dir=~/tensorflow_datasets

CelebA has no class labels, so no classifier metrics are logged: judge by the sample grids,
k_t (`began/k`) and the convergence measure M_global (`began/m_global`).
"""

import ml_collections

from configs import default


def _adam(learning_rate: float) -> ml_collections.ConfigDict:
    return default.optimizer(
        "adam", learning_rate=learning_rate, b1=0.5, b2=0.999, eps=1e-8, eps_root=0.0
    )


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config()
    config.data.name = "celeb_a"
    config.data.image_size = 64
    config.objective = "began"
    config.loss = ml_collections.ConfigDict(dict(gamma=0.5, lambda_k=0.001))
    config.update_order = "alternating"
    config.batch_size = 16
    config.num_steps = 200_000
    config.eval_every = 5_000
    config.checkpoint_every = 10_000
    config.model.g = ml_collections.ConfigDict(
        dict(name="dcgan", latent_dim=64, base_features=64, upsample="resize", activation="elu")
    )
    config.model.d = ml_collections.ConfigDict(
        dict(name="conv_autoencoder", base_features=64, code_dim=64, activation="elu")
    )
    config.optim.g = _adam(1e-4)
    config.optim.d = _adam(1e-4)
    config.eval.num_samples = 64
    config.eval.plot_samples = 64
    return config
