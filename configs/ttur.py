"""configs/gan.py with the two time-scale update rule (Heusel et al. 2017, "GANs Trained by a
Two Time-Scale Update Rule"): D learns faster than G (4e-4 vs 1e-4), the reverse of the Metz
et al. protocol the other ring configs use (G 1e-3, D 1e-4).

  python -m gan_jax.main --config=configs/ttur.py --workdir=runs/ttur
"""

from configs import gan


def get_config():
    config = gan.get_config()
    config.optim.g.learning_rate = 1e-4
    config.optim.d.learning_rate = 4e-4
    return config
