"""G's helper networks: an encoder E(x) -> z (ALI / BiGAN's encoder, VEEGAN's reconstructor),
found by name (`config.model.encoder.name`), and the one module that holds G with its helper.

Every encoder is a distribution over codes given x: `__call__(x)` is its mean (the code),
`sample(x, noise)` a draw from standard normal `noise` of the code's shape, and a stochastic one
has `log_prob(x, z)`. A deterministic encoder is a point mass: its draw is its code.

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
from jax.scipy.stats import norm

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
            tuple(self.hidden_sizes),
            self.latent_dim,
            self.activation,
            self.init_std,
            orthogonal_gain=self.orthogonal_gain,
        )(flat)

    def sample(self, x: jax.Array, noise: jax.Array) -> jax.Array:
        """A point mass: the draw is the code, whatever the noise."""
        del noise
        return self(x)


class GaussianMLPEncoder(nn.Module):
    """x (flattened) -> N(loc(x), diag scale(x)^2) over z in R^latent_dim, one MLP with
    `activation` whose last, linear layer gives loc and the softplus pre-activation of scale
    (plus `min_scale`). VEEGAN's stochastic reconstructor F_theta(z|x) (Srivastava et al. 2017,
    Sec. 3 and Alg. 1, line 5, z ~ F_theta(x)): the codes of real data it feeds D are draws, so
    in the latent dimensions a 2D sample cannot recover, a learned scale near 1 makes them look
    like the prior's, which a deterministic F's 2D manifold of codes never does."""

    latent_dim: int
    hidden_sizes: Sequence[int] = (128, 128)
    activation: str = "tanh"
    init_std: float | None = None
    orthogonal_gain: float | None = None
    min_scale: float = 1e-3

    @nn.compact
    def loc_and_scale(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        flat = x.reshape(x.shape[0], -1)
        out = MLP(
            tuple(self.hidden_sizes),
            2 * self.latent_dim,
            self.activation,
            self.init_std,
            orthogonal_gain=self.orthogonal_gain,
        )(flat)
        loc, scale_logit = jnp.split(out, 2, axis=-1)
        return loc, jax.nn.softplus(scale_logit) + self.min_scale

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.loc_and_scale(x)[0]

    def sample(self, x: jax.Array, noise: jax.Array) -> jax.Array:
        loc, scale = self.loc_and_scale(x)
        return loc + scale * noise

    def log_prob(self, x: jax.Array, z: jax.Array) -> jax.Array:
        """log F(z | x), summed over the latent dimensions: (n,)."""
        loc, scale = self.loc_and_scale(x)
        return jnp.sum(norm.logpdf(z, loc, scale), axis=-1)


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

    def sample_code(self, x: jax.Array, noise: jax.Array) -> jax.Array:
        return self.encoder.sample(x, noise)

    def code_log_prob(self, x: jax.Array, z: jax.Array) -> jax.Array:
        return self.encoder.log_prob(x, z)


ENCODERS = {"none": None, "mlp": MLPEncoder, "gaussian_mlp": GaussianMLPEncoder}
# The encoders with a density, log_prob(x, z) (for the "reconstruction_nll" regulariser).
STOCHASTIC_ENCODERS = frozenset({"gaussian_mlp"})


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
    """x -> E(x), the code's mean, with G's side's parameters `g_params`; calling it on a bare G
    is an error."""
    return lambda x: generator.apply(g_params, x, method="encode")


def sample_code_fn(generator: nn.Module, g_params, key: jax.Array):
    """x -> a draw z ~ E(z | x), its noise from `key` (a deterministic E's code itself)."""

    def sample_code(x):
        noise = jax.random.normal(key, (x.shape[0], generator.latent_dim))
        return generator.apply(g_params, x, noise, method="sample_code")

    return sample_code


def code_log_prob_fn(generator: nn.Module, g_params):
    """(x, z) -> log E(z | x) per sample, (n,); for a stochastic encoder only."""
    return lambda x, z: generator.apply(g_params, x, z, method="code_log_prob")
