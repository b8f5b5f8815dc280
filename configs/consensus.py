"""configs/gan.py with consensus optimisation (Mescheder et al. 2017, "The Numerics of GANs",
Sec. 4): both players descend v + gamma * grad(||v||^2 / 2), which damps the rotation of the
joint gradient field v. gamma = 10 as in the paper's mixture-of-Gaussians experiment; it is a
dynamic field, so a sweep over it shares one compiled program. A step costs one extra
double-backward pass.

  python -m gan_jax.main --config=configs/consensus.py --workdir=runs/consensus
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.consensus.enabled = True
    config.consensus.weight = 10.0
    return config
