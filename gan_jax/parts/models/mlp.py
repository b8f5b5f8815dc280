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


def dense(
    width: int, init_std: float | None = None, orthogonal_gain: float | None = None, **kwargs
) -> nn.Dense:
    """A dense layer: flax's default init (LeCun normal weights); with `init_std` weights
    N(0, init_std^2) and zero biases, the DCGAN / PacGAN scheme (Radford et al. 2016, Sec. 4);
    with `orthogonal_gain` orthogonal weights times the gain and zero biases (Saxe et al. 2014),
    the 2D scheme of Metz et al.'s unrolled-GAN notebook (gain 1.4), which VEEGAN's and GDPP's
    2D code inherit. Config validation refuses both at once."""
    if orthogonal_gain is not None:
        return nn.Dense(
            width,
            kernel_init=nn.initializers.orthogonal(orthogonal_gain),
            bias_init=nn.initializers.zeros,
            **kwargs,
        )
    if init_std is None:
        return nn.Dense(width, **kwargs)
    return nn.Dense(
        width,
        kernel_init=nn.initializers.normal(init_std),
        bias_init=nn.initializers.zeros,
        **kwargs,
    )


class Maxout(nn.Module):
    """A maxout layer (Goodfellow et al. 2013, Eq. 1): h_i = max_j (x W_ij + b_ij), j over
    `pieces` affine maps per unit."""

    units: int
    pieces: int = 5
    init_std: float | None = None
    orthogonal_gain: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = dense(self.units * self.pieces, self.init_std, self.orthogonal_gain)(x)
        return jnp.max(y.reshape(*y.shape[:-1], self.units, self.pieces), axis=-1)


def hidden_layer(
    x, width: int, activation: str, init_std, maxout_pieces: int, orthogonal_gain=None
):
    """One hidden layer: `activation` after a dense layer, or a maxout layer."""
    if activation == "maxout":
        return Maxout(width, maxout_pieces, init_std, orthogonal_gain)(x)
    return ACTIVATIONS[activation](dense(width, init_std, orthogonal_gain)(x))


class MLP(nn.Module):
    """Dense layers with an activation after every hidden layer, the output layer linear."""

    hidden_sizes: Sequence[int]
    output_size: int
    activation: str = "tanh"
    init_std: float | None = None
    maxout_pieces: int = 5
    orthogonal_gain: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for width in self.hidden_sizes:
            x = hidden_layer(
                x, width, self.activation, self.init_std, self.maxout_pieces, self.orthogonal_gain
            )
        return dense(self.output_size, self.init_std, self.orthogonal_gain)(x)


class MLPGenerator(nn.Module):
    """Maps latent vectors z ~ N(0, I) of size `latent_dim` to samples of shape `data_shape`.

    `normalization="batch"`: each hidden layer is Dense (no bias) -> BatchNorm -> activation, as
    in PacGAN's G (Lin et al. 2018, App. E). In training mode BatchNorm normalises with the
    batch's statistics and updates running averages (the `batch_stats` collection, part of the
    run's state); in inference mode (`train=False`, every eval) it uses the running averages
    (Ioffe & Szegedy 2015, Alg. 2). Call it through `apply_generator`.
    """

    data_shape: tuple[int, ...]
    latent_dim: int = 256
    hidden_sizes: Sequence[int] = (128, 128)
    activation: str = "tanh"
    normalization: str = "none"  # "none" or "batch"
    init_std: float | None = None
    orthogonal_gain: float | None = None
    batch_norm_momentum: float = 0.9

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        size = int(np.prod(self.data_shape))
        if self.normalization == "none":
            out = MLP(
                self.hidden_sizes,
                size,
                self.activation,
                self.init_std,
                orthogonal_gain=self.orthogonal_gain,
            )(z)
        else:
            x = z
            for width in self.hidden_sizes:
                x = dense(width, self.init_std, self.orthogonal_gain, use_bias=False)(x)
                x = nn.BatchNorm(
                    use_running_average=not train, momentum=self.batch_norm_momentum, epsilon=1e-5
                )(x)
                x = ACTIVATIONS[self.activation](x)
            out = dense(size, self.init_std, self.orthogonal_gain)(x)
        return out.reshape(z.shape[:-1] + tuple(self.data_shape))


NORMALIZATIONS = ("none", "batch")


def apply_generator(generator: nn.Module, variables, z: jax.Array, *, train: bool):
    """G's samples and its updated batch statistics ({} for a G without BatchNorm).

    Training mode normalises with the batch's own statistics and returns the running averages
    updated by this batch; inference mode uses the stored running averages and returns {}.
    """
    if not train:
        return generator.apply(variables, z, train=False), {}
    return generator.apply(variables, z, train=True, mutable=["batch_stats"])


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.2.

    Features f_i (n, A) are projected by a tensor T (A x B x C) to M_i (B x C); for each of the
    B kernels c_b(i, j) = exp(-||M_{i,b} - M_{j,b}||_1) and o(x_i)_b = sum_j c_b(i, j). The
    (n, B) outputs are concatenated to the features, so D sees how close a sample is to the rest
    of its batch.
    """

    num_kernels: int
    kernel_dim: int

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        projection = nn.Dense(self.num_kernels * self.kernel_dim, use_bias=False, name="T")
        m = projection(features).reshape(-1, self.num_kernels, self.kernel_dim)
        # L1 distances (n, n, B), summed one kernel dimension at a time: XLA on CPU then never
        # builds the (n, n, B, C) tensor in the backward pass (4.5x faster at n = 512, C = 4).
        l1 = sum(jnp.abs(m[:, None, :, c] - m[None, :, :, c]) for c in range(self.kernel_dim))
        return jnp.concatenate([features, jnp.sum(jnp.exp(-l1), axis=1)], axis=-1)


def minibatch_stddev(features: jax.Array) -> jax.Array:
    """Karras et al. 2018 (Progressive GANs), Sec. 3: the standard deviation of each feature over
    the batch, averaged to one number, appended to every sample's features."""
    spread = jnp.mean(jnp.sqrt(jnp.var(features, axis=0) + 1e-8))
    return jnp.concatenate([features, jnp.full((features.shape[0], 1), spread)], axis=-1)


class MLPDiscriminator(nn.Module):
    """Maps a batch of samples to one real-valued output (a logit) per sample, shape (n,).

    Mode-collapse options: `minibatch_kernels > 0` adds minibatch discrimination and
    `minibatch_stddev` the minibatch standard deviation before the last layer; `pack = m`
    (PacGAN, Lin et al. 2018) makes D judge m samples at once, concatenated, so the output has
    n / m entries.

    `features=True` returns D's last hidden features instead, the (n / m, h) input of the output
    layer (after the minibatch layers, if any), e.g. for GDPP (Elfeki et al. 2019); the
    parameters are the same either way.
    """

    hidden_sizes: Sequence[int] = (128,)
    activation: str = "tanh"  # or "maxout": maxout layers of `maxout_pieces` pieces
    minibatch_kernels: int = 0
    minibatch_kernel_dim: int = 5
    minibatch_stddev: bool = False
    pack: int = 1
    init_std: float | None = None
    maxout_pieces: int = 5
    orthogonal_gain: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array, features: bool = False) -> jax.Array:
        x = x.reshape(x.shape[0] // self.pack, -1)
        for width in self.hidden_sizes:
            x = hidden_layer(
                x, width, self.activation, self.init_std, self.maxout_pieces, self.orthogonal_gain
            )
        if self.minibatch_kernels:
            x = MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(x)
        if self.minibatch_stddev:
            x = minibatch_stddev(x)
        if features:
            return x
        return dense(1, self.init_std, self.orthogonal_gain)(x)[:, 0]


class MLPAutoencoderDiscriminator(nn.Module):
    """The autoencoder D of EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017).

    Returns per-sample reconstruction errors, mean absolute ("l1", BEGAN's L) and mean squared
    ("l2", EBGAN's energy), and the encoder's codes ("codes", for the pulling-away term).
    """

    hidden_sizes: Sequence[int] = (128,)
    code_dim: int = 16
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x: jax.Array) -> dict[str, jax.Array]:
        flat = x.reshape(x.shape[0], -1)
        codes = MLP(self.hidden_sizes, self.code_dim, self.activation, name="encoder")(flat)
        decoder = MLP(
            tuple(reversed(self.hidden_sizes)), flat.shape[-1], self.activation, name="decoder"
        )
        error = decoder(codes) - flat
        return {
            "l1": jnp.mean(jnp.abs(error), axis=-1),
            "l2": jnp.mean(error**2, axis=-1),
            "codes": codes,
        }
