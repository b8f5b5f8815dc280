"""2D Gaussian mixtures: the mode-collapse benchmarks whose modes are known exactly.

*ring*: 8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2016, "Unrolled Generative
Adversarial Networks", Sec. 3.1). *grid*: 25 Gaussians on a 5x5 grid with spacing 2, std 0.05
(Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN). Every mode has equal weight.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture2D:
    """An equal-weight mixture of isotropic 2D Gaussians; its modes are the metrics' truth.

    A pytree whose one leaf is `centers`, like every data set, so a jitted step can take it as
    an argument (see `gan_jax.train.make_train_chunk`).
    """

    name: str
    centers: np.ndarray  # (num_modes, 2)
    std: float

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample."""
        return (2,)

    @property
    def num_modes(self) -> int:
        return self.centers.shape[0]

    def sample(self, key: jax.Array, n: int) -> jax.Array:
        """Draws `n` samples, shape (n, 2), inside jit: a uniform mode, then Gaussian noise."""
        mode_key, noise_key = jax.random.split(key)
        modes = jax.random.randint(mode_key, (n,), 0, self.num_modes)
        noise = self.std * jax.random.normal(noise_key, (n, 2))
        return jnp.asarray(self.centers, jnp.float32)[modes] + noise


jax.tree_util.register_dataclass(Mixture2D, data_fields=["centers"], meta_fields=["name", "std"])


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Mixture2D:
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    return Mixture2D("ring", centers.astype(np.float32), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture2D:
    ticks = spacing * (np.arange(side) - (side - 1) / 2)
    centers = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
    return Mixture2D("grid", centers.astype(np.float32), std)


MIXTURES = {"ring": ring, "grid": grid}
