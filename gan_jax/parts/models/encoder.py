"""G's helper networks: an encoder E(x) -> z (ALI / BiGAN's encoder, VEEGAN's reconstructor),
found by name (`config.model.encoder.name`), and the one module that holds G with its helper.

G's side of the game owns a tree of networks with one optimizer state (DESIGN.md, "More than two
networks"): `GeneratorWithEncoder` is that tree as one Flax module, so G's parameters, optimizer
state, EMA, checkpoints and vmapped sweeps carry the helper with no change to the step.
Calling it is calling G (evaluation samples G only); `encode` is the helper. A run without a
helper keeps the bare G and its parameter tree unchanged.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.parts.models.mlp import MLP


class MLPEncoder(nn.Module):
    """x (flattened) -> z in R^latent_dim: dense layers with `activation`, the last one linear
    (ALI's and VEEGAN's 2D encoders are MLPs; VEEGAN's reconstructor is G's mirror)."""

    latent_dim: int
    hidden_sizes: Sequence[int] = (128, 128)
    activation: str = "tanh"
    init_std: float | None = None
    orthogonal_gain: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        flat = x.reshape(x.shape[0], -1)
        return MLP(
            tuple(self.hidden_sizes), self.latent_dim, self.activation, self.init_std,
            orthogonal_gain=self.orthogonal_gain,
        )(flat)


class GeneratorWithEncoder(nn.Module):
    """G and its helper network E as one module: `__call__(z, train)` is G's, `encode(x)` E's.

    Parameters: {"params": {"generator": G's, "encoder": E's}} (plus G's "batch_stats" under
    "generator" if it has BatchNorm); `init` creates both.
    """

    generator: nn.Module
    encoder: nn.Module
    data_shape: tuple[int, ...]

    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        if self.is_initializing():  # E's parameters are created with G's
            self.encoder(jnp.zeros((1, *self.data_shape), jnp.float32))
        return self.generator(z, train=train)

    def encode(self, x: jax.Array) -> jax.Array:
        return self.encoder(x)


ENCODERS = {"none": None, "mlp": MLPEncoder}


def with_encoder(generator: nn.Module, cfg, data_shape: tuple[int, ...]) -> nn.Module:
    """`generator` itself for `cfg.name == "none"`, else G with the encoder `cfg` names (its
    other fields are the encoder's, its output G's latent size)."""
    if cfg is None or cfg.name == "none":
        return generator
    if cfg.name not in ENCODERS:
        raise ValueError(
            f"model.encoder.name={cfg.name!r} is unknown; choose one of {sorted(ENCODERS)}"
        )
    kwargs = {k: v for k, v in dict(cfg).items() if k != "name"}
    encoder = ENCODERS[cfg.name](latent_dim=generator.latent_dim, **kwargs)
    return GeneratorWithEncoder(generator, encoder, tuple(data_shape))


def encode_fn(generator: nn.Module, g_params):
    """x -> E(x) with G's side's parameters `g_params`; calling it on a bare G is an error."""
    return lambda x: generator.apply(g_params, x, method="encode")
