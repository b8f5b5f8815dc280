"""PacGAN's 2D-ring protocol (Lin et al. 2018, Sec. 5 and App. E; the authors' code,
fjxmlzn/PacGAN synthetic_data_experiments), exactly, for GAN and PacGAN2/3/4.

  python -m gan_jax.main --config=configs/paper/pacgan_ring.py --workdir=runs/pacgan_ring
  python -m gan_jax.main --config=configs/paper/pacgan_ring.py:4 --workdir=runs/pacgan4_ring

The argument after `:` is the packing degree m (default 1: the plain GAN). Protocol: 8 modes on
a circle of radius 1, std 0.01; z ~ N(0, I_2); G = four Linear(400, no bias) -> BatchNorm ->
ReLU layers, then a linear output; D = three maxout layers (200 units, 5 pieces) and a linear
output, no normalisation; weights N(0, 0.02^2), biases 0; non-saturating G loss; Adam lr 1e-4,
b1 0.8, b2 0.999 for both; a batch of 100 packs (each of m slots with its own real sample and
its own z, so 100 m samples); simultaneous 1:1 updates; a fixed data set of 100,000 points drawn
once, batches drawn from it with replacement; 400 epochs = 400,000 steps; metrics on 2,500
samples of a fixed z with BatchNorm in inference mode. Sized for a GPU/TPU: on a 2-core CPU
use --config.num_steps (experiments/paper_tables). The mixture's std sets the metrics' 3-sigma
high-quality threshold, so HQ % and modes follow PacGAN's definitions.
"""

import ml_collections

from configs import default


def _adam() -> ml_collections.ConfigDict:
    return default.optimizer("adam", learning_rate=1e-4, b1=0.8, b2=0.999, eps=1e-8, eps_root=0.0)


def use_pacgan_data(config: ml_collections.ConfigDict, data_name: str = "ring") -> None:
    """PacGAN's data set in `config`: the ring (radius 1, std 0.01) or the grid (spacing 2,
    std 0.05, the project's default), 100,000 points drawn once from PRNGKey(0)."""
    config.data.name = data_name
    config.data.num_points = 100_000
    config.data.points_seed = 0
    if data_name == "ring":
        config.data.radius, config.data.std = 1.0, 0.01


def get_config(pack: str = "1", data_name: str = "ring") -> ml_collections.ConfigDict:
    pack = int(pack)
    config = default.get_config()
    use_pacgan_data(config, data_name)
    config.num_steps = 400_000
    config.batch_size = 100 * pack
    config.eval_every = 10_000
    config.checkpoint_every = 50_000
    config.eval.num_samples = 2_500
    config.objective = "nonsaturating"
    config.update_order = "simultaneous"
    config.n_d_steps = 1
    config.unroll.steps = 0
    config.model.g = ml_collections.ConfigDict(
        dict(
            name="mlp",
            latent_dim=2,
            hidden_sizes=(400, 400, 400, 400),
            activation="relu",
            normalization="batch",
            init_std=0.02,
        )
    )
    config.model.d = ml_collections.ConfigDict(
        dict(
            name="mlp",
            hidden_sizes=(200, 200, 200),
            activation="maxout",
            maxout_pieces=5,
            init_std=0.02,
            pack=pack,
        )
    )
    config.optim.g = _adam()
    config.optim.d = _adam()
    return config
