"""The best ring recipe found by the sweeps of experiments/paper_tables (README there): PacGAN's
ring (radius 1, std 0.01, 100,000 points) learned in 25,000 steps of batch 200 by a small
PacGAN2 whose G is read through an EMA of its weights.

  python -m gan_jax.main --config=configs/best_ring.py --workdir=runs/best_ring

Changes from configs/paper/pacgan_ring.py:2 (PacGAN2): G 3 x 128 BatchNorm-ReLU layers, D 2 x
128 maxout layers (5 pieces); Adam lr 3e-4 for both players (b1 0.8; the argument after `:` sets
another, e.g. `configs/best_ring.py:5e-4`); an EMA of G's weights
with decay 0.999 (Yazici et al. 2019), evaluated beside the raw G (its metrics under "ema/";
`gan_jax.restore(workdir).sample(n, seed, ema=True)`); 25,000 steps with an eval every 1,000.
Everything else (data, init, loss, simultaneous updates) is PacGAN's.
"""

from configs.paper import pacgan_ring


def small_with_ema(config, g_learning_rate: float, d_learning_rate: float):
    """The recipes' changes to a PacGAN config (ring and grid alike): G 3 x 128, D 2 x 128, the
    given learning rates, an EMA of G (decay 0.999), 25,000 steps with an eval every 1,000."""
    config.model.g.hidden_sizes = (128, 128, 128)
    config.model.d.hidden_sizes = (128, 128)
    config.optim.g.learning_rate = g_learning_rate
    config.optim.d.learning_rate = d_learning_rate
    config.ema.enabled = True
    config.ema.decay = 0.999
    config.num_steps = 25_000
    config.eval_every = 1_000
    config.checkpoint_every = 5_000
    return config


def get_config(learning_rate: str = "3e-4"):
    rate = float(learning_rate)
    return small_with_ema(pacgan_ring.get_config("2"), rate, rate)
