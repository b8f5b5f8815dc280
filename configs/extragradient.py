"""configs/gan.py with extragradient steps (Gidel et al. 2019, "A Variational Inequality
Perspective on Generative Adversarial Networks", Extra-Adam): each step first looks ahead with
the optimizer, then steps from the starting point with the gradients of the look-ahead point. A
step costs two.

  python -m gan_jax.main --config=configs/extragradient.py --workdir=runs/extragradient
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.extrapolation = "extragradient"
    return config
