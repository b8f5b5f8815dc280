"""Fully connected generator and discriminator for the 2D benchmarks.

Defaults follow Metz et al. 2016 (Unrolled GANs), Appendix A, mixture of Gaussians:
G: z (256) -> 128 -> 128 -> 2 with tanh hidden units; D: 2 -> 128 -> 1 with tanh hidden units.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {
    "tanh": jnp.tanh,
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, 0.2),
    "elu": nn.elu,
    "gelu": nn.gelu,
}


class MLP(nn.Module):
    """Dense layers with an activation after every hidden layer, the output layer linear."""

    hidden_sizes: Sequence[int]
    output_size: int
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for width in self.hidden_sizes:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.output_size)(x)


class MLPGenerator(nn.Module):
    """Maps latent vectors z ~ N(0, I) of size `latent_dim` to samples of shape `data_shape`."""

    data_shape: tuple[int, ...]
    latent_dim: int = 256
    hidden_sizes: Sequence[int] = (128, 128)
    activation: str = "tanh"

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        out = MLP(self.hidden_sizes, int(np.prod(self.data_shape)), self.activation)(z)
        return out.reshape(z.shape[:-1] + tuple(self.data_shape))


class MLPDiscriminator(nn.Module):
    """Maps a batch of samples to one real-valued output (a logit) per sample, shape (n,)."""

    hidden_sizes: Sequence[int] = (128,)
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        return MLP(self.hidden_sizes, 1, self.activation)(x)[:, 0]
