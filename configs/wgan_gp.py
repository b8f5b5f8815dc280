"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1) on the ring: critic loss with the gradient
penalty lambda = 10 on random interpolates, 5 critic steps per G step, Adam(1e-4, 0.5, 0.9).

  python -m gan_jax.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.objective = "wasserstein"
    config.penalty.name = "gp"
    config.penalty.weight = 10.0
    config.n_d_steps = 5
    config.update_order = "alternating"
    for player in (config.optim.g, config.optim.d):
        player.learning_rate = 1e-4
        player.b1 = 0.5
        player.b2 = 0.9
    return config
