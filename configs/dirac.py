"""Dirac-GAN (Mescheder et al. 2018, Sec. 2.2): data at 0, G(z) = theta, D(x) = psi * x, the
minimax GAN loss, plain gradient steps from (theta, psi) = (1, 1).

  python -m gan_jax.main --config=configs/dirac.py --workdir=runs/dirac

The unique equilibrium is (0, 0). With these settings simultaneous steps spiral out and
alternating ones circle; add a fix to make them converge, e.g. --config.penalty.name=r1
--config.penalty.weight=1, --config.consensus.enabled=True --config.consensus.weight=1,
--config.extrapolation=extragradient, --config.optim.g.name=optimistic_sgd (and .d).
experiments/oscillation draws all of them as phase portraits.
"""

import ml_collections

from configs import default


def _sgd(learning_rate: float) -> ml_collections.ConfigDict:
    return default.optimizer("sgd", learning_rate=learning_rate, momentum=0.0)


def get_config() -> ml_collections.ConfigDict:
    config = default.get_config()
    config.data.name = "dirac"
    config.objective = "minimax"
    config.update_order = "simultaneous"
    # Every sample of a batch is the same point; a batch of 4 divides any test device count.
    config.batch_size = 4
    config.num_steps = 1_000
    config.eval_every = 50
    config.checkpoint_every = 500
    config.model.g = ml_collections.ConfigDict(dict(name="dirac", latent_dim=1, initial_theta=1.0))
    config.model.d = ml_collections.ConfigDict(dict(name="linear", initial_psi=1.0))
    config.optim.g = _sgd(0.1)
    config.optim.d = _sgd(0.1)
    config.consensus.weight = 1.0
    config.eval.num_samples = 4
    config.eval.plot_samples = 4
    return config
