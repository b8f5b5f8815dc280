"""2D Gaussian mixtures: the mode-collapse benchmarks whose modes are known exactly.

*ring*: 8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2016, "Unrolled Generative
Adversarial Networks", Sec. 3.1; PacGAN's ring is radius 1, std 0.01). *grid*: 25 Gaussians on
a 5x5 grid with spacing 2, std 0.05 (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN).
Every mode has equal weight.

By default every batch is a fresh draw from the mixture. With `num_points` the data set is
finite, as in PacGAN's experiments (100,000 points drawn once, batches drawn from them with
replacement): the points are drawn from `PRNGKey(points_seed)` when the data set is built.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture2D:
    """An equal-weight mixture of isotropic 2D Gaussians; its modes are the metrics' truth.

    A pytree whose one leaf is `centers`, like every data set, so a jitted step can take it as
    an argument (see `gan_jax.step.train.make_train_chunk`).
    """

    name: str
    centers: np.ndarray  # (num_modes, 2)
    std: float
    points: np.ndarray | None = None  # (num_points, 2): a finite data set, or None (infinite)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample."""
        return (2,)

    @property
    def num_modes(self) -> int:
        return self.centers.shape[0]

    def sample(self, key: jax.Array, n: int) -> jax.Array:
        """Draws `n` samples, shape (n, 2), inside jit: a uniform mode, then Gaussian noise; or,
        for a finite data set, `n` of its points uniformly with replacement."""
        if self.points is not None:
            index = jax.random.randint(key, (n,), 0, self.points.shape[0])
            return jnp.asarray(self.points)[index]
        return draw(key, self.centers, self.std, n)


jax.tree_util.register_dataclass(
    Mixture2D, data_fields=["centers", "points"], meta_fields=["name", "std"]
)


def draw(key: jax.Array, centers, std: float, n: int) -> jax.Array:
    """`n` draws from the equal-weight mixture of N(center, std^2 I): (n, 2) float32."""
    mode_key, noise_key = jax.random.split(key)
    modes = jax.random.randint(mode_key, (n,), 0, centers.shape[0])
    noise = std * jax.random.normal(noise_key, (n, 2))
    return jnp.asarray(centers, jnp.float32)[modes] + noise


def _mixture(name, centers, std, num_points, points_seed) -> Mixture2D:
    centers = centers.astype(np.float32)
    points = None
    if num_points is not None:
        points = np.asarray(draw(jax.random.PRNGKey(points_seed), centers, std, num_points))
    return Mixture2D(name, centers, std, points)


def ring(
    num_modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    num_points: int | None = None,
    points_seed: int = 0,
) -> Mixture2D:
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    return _mixture("ring", centers, std, num_points, points_seed)


def grid(
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.05,
    num_points: int | None = None,
    points_seed: int = 0,
) -> Mixture2D:
    ticks = spacing * (np.arange(side) - (side - 1) / 2)
    centers = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
    return _mixture("grid", centers, std, num_points, points_seed)


MIXTURES = {"ring": ring, "grid": grid}
