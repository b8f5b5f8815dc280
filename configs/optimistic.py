"""configs/gan.py with optimistic Adam for both players (Daskalakis et al. 2018, "Training GANs
with Optimism", Alg. 1): each step extrapolates with the previous gradient, which cancels the
rotation of bilinear games. Same learning rates and betas as the baseline.

  python -m gan_jax.main --config=configs/optimistic.py --workdir=runs/optimistic
"""

from configs import gan


def get_config():
    config = gan.get_config()
    for player in ("g", "d"):
        config.optim[player].name = "optimistic_adam"
    return config
