"""Non-saturating GAN with minibatch discrimination in D (Salimans et al. 2016): 8 kernels of
dimension 4 before D's last layer. Otherwise configs/gan.py.

  python -m gan_jax.main --config=configs/minibatch.py --workdir=runs/minibatch
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.model.d.minibatch_kernels = 8
    config.model.d.minibatch_kernel_dim = 4
    return config
