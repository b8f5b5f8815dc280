"""configs/gan.py with the R1 penalty on D (Mescheder et al. 2018, Eq. 9): (gamma / 2)
E_real ||grad_x D(x)||^2, which makes the Dirac-GAN equilibrium locally convergent.
gamma = 1 (dynamic: sweep it without recompiling).

  python -m gan_jax.main --config=configs/r1.py --workdir=runs/r1
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.penalty.name = "r1"
    config.penalty.weight = 1.0
    return config
