"""DCGAN (Radford et al. 2015) on MNIST, 28x28x1, for a GPU: the image size of the paper's
MNIST experiments with the DCGAN recipe (non-saturating loss, Adam lr 2e-4, beta1 0.5,
batch 64). Needs MNIST prepared for tfds (python -m gan_jax.parts.data.prepare --data=mnist).

  python -m gan_jax.main --config=configs/mnist_dcgan.py --workdir=runs/mnist_dcgan \
      --config.data.tfds_dir=~/tensorflow_datasets

G: z (100) -> 7x7x256 -> 14x14x128 -> 28x28x1; D: 28x28x1 -> 14x14x64 -> 7x7x128 -> logit.
Metrics: FD / precision / recall / IS analogue in the feature space of the project's MNIST
classifier, trained on first use and cached ($GAN_JAX_CACHE).
"""

import ml_collections

from configs import digits_dcgan


def get_config() -> ml_collections.ConfigDict:
    config = digits_dcgan.get_config()
    config.data.name = "mnist"
    config.num_steps = 50_000
    config.eval_every = 2_500
    config.checkpoint_every = 5_000
    config.model.g = ml_collections.ConfigDict(
        dict(name="dcgan", latent_dim=100, base_features=64, upsample="transpose")
    )
    config.model.d = ml_collections.ConfigDict(dict(name="dcgan", base_features=64))
    config.eval.num_samples = 10_000
    return config
