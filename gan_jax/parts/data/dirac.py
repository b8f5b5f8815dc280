"""Dirac-GAN's data: a point mass (Mescheder et al. 2018, "Which Training Methods for GANs do
actually Converge?", Sec. 2.2).

The smallest GAN game that still oscillates: the data distribution is a Dirac at `location`
(0 in the paper), the generator is one parameter theta, the discriminator is D(x) = psi * x
(`gan_jax.parts.models.dirac`). The unique equilibrium is theta = location, psi = 0.
"""

import dataclasses

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class PointMass:
    """Every sample is `location`: shape (dim,). A pytree without leaves."""

    name: str = "dirac"
    location: float = 0.0
    dim: int = 1

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.dim,)

    @property
    def num_modes(self) -> int:
        return 1

    def sample(self, key: jax.Array, n: int) -> jax.Array:
        del key  # deterministic: the data set is one point
        return jnp.full((n, self.dim), self.location, jnp.float32)


jax.tree_util.register_dataclass(PointMass, data_fields=[], meta_fields=["name", "location", "dim"])


def point_mass_metrics(samples: jax.Array, location: float) -> dict:
    """How far G is from the equilibrium: the mean distance of its samples to the data point
    (|theta - location| for the one-parameter generator)."""
    distance = jnp.linalg.norm(samples - location, axis=-1)
    return {"distance_to_data": jnp.mean(distance)}


def dirac() -> PointMass:
    return PointMass()


POINT_MASSES = {"dirac": dirac}
