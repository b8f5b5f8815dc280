"""Convolutional G and D for square images: DCGAN (Radford et al. 2015) and the autoencoder D of
EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017), with optional spectral
normalisation on D (Miyato et al. 2018). Images are NHWC, in [-1, 1].

Sizes: an image of size H = W = s * 2^k, s in {4, 7}, k >= 1 (8, 14, 16, 28, 32, 56, 64, ...) is
built from an s x s map by k upsampling blocks (G, the decoder) and taken down to it by k
stride-2 convolutions (D, the encoder): 8 = 4 * 2, 28 = 7 * 4, 32 = 4 * 8, 64 = 4 * 16.

Deviations from the papers, all so that every module is a pure function of (params, x) with no
mutable collections (the train step differentiates through D updates and vmaps runs):
- no batch normalisation: `normalization="layer"` normalises each sample over (H, W, C) with a
  learned per-channel scale and shift (Ba et al. 2016), so D's output for one sample never
  depends on the rest of its batch, which per-sample gradient penalties assume;
- spectral normalisation keeps no power-iteration vector `u` between steps: every call runs
  `spectral_norm_iterations` power iterations from the same fixed start vector;
- D's down-sampling convolutions are 4x4 stride 2 (as in the DCGAN reference code) and the
  autoencoder's decoder upsamples by nearest neighbour + 3x3 convolution (as BEGAN, Sec. 3.4).

Upsampling, G's `upsample` field: "transpose" is Radford et al.'s fractionally-strided 4x4
convolution, stride 2 (the same function and parameters as `nn.ConvTranspose(f, (4, 4), 2,
padding="SAME")`); "resize" is nearest-neighbour x2 upsampling then a 3x3 convolution (Odena et
al. 2016, "Deconvolution and Checkerboard Artifacts"). Both are computed as four 2x2 stride-1
convolutions on the small map, one per output phase, interleaved, and on CPU every convolution
is a sum of matrix products (`conv2d`): XLA:CPU's transposed-convolution kernel gradient, and
any convolution's kernel gradient inside `lax.scan`, are 35-50x slower than these
(benchmarks/README.md, "Conv step (DCGAN, MNIST size)").
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gan_jax.parts.models.mlp import ACTIVATIONS

START_SIZES = (4, 7)
UPSAMPLE = ("transpose", "resize")
NORMALIZATIONS = ("none", "layer")
_DN = ("NHWC", "HWIO", "NHWC")


def conv_schedule(data_shape) -> tuple[int, int]:
    """(s, k) with H = W = s * 2^k, s in {4, 7}, k >= 1; a ValueError for any other shape."""
    shape = tuple(data_shape)
    if len(shape) == 3 and shape[0] == shape[1]:
        for start in START_SIZES:
            blocks = shape[0] // start
            if shape[0] % start == 0 and blocks >= 2 and blocks & (blocks - 1) == 0:
                return start, blocks.bit_length() - 1
    raise ValueError(
        f"data shape {shape}: dcgan and conv_autoencoder need (H, W, C) with "
        f"H == W = s * 2^k, s in {START_SIZES}, k >= 1 (e.g. 8, 14, 16, 28, 32, 56, 64)"
    )


def _check_choice(field: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{field}={value!r} is invalid: choose one of {list(choices)}")


# --- convolution --------------------------------------------------------------------------

# How `conv2d` computes: "matmul" (im2col + one matrix product) or "xla"
# (`lax.conv_general_dilated`); None picks "matmul" on CPU and "xla" on other backends. A switch
# for benchmarks and tests, not a config field: both compute the same function.
CONV_IMPLEMENTATION: str | None = None
# On the matmul path, an upsampling to at most this many channels (the layer that makes the
# image) runs as col2im (`upsample_phases`).
COL2IM_MAX_CHANNELS = 4


def _implementation() -> str:
    return CONV_IMPLEMENTATION or ("matmul" if jax.default_backend() == "cpu" else "xla")


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """XLA's "SAME": ceil(size / stride) outputs, the odd pixel of padding at the end."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x: jax.Array, kernel: jax.Array, strides: int = 1, padding="SAME") -> jax.Array:
    """2D cross-correlation, x NHWC, kernel HWIO, `padding` "SAME" or ((top, bottom), (left,
    right)).

    On CPU it runs as matrix products over shifted views of x: inside a while loop (`lax.scan`,
    which runs every train chunk and the unrolled D steps) XLA:CPU computes the kernel gradient
    of `lax.conv_general_dilated` ~50x slower than outside one (jax-ml/jax#12868; the DCGAN
    train step took 5 s in a scan vs 0.3 s alone), while slices and matrix products stay fast,
    in any order of differentiation. Stride 1 sums one product per kernel tap; strided
    convolutions concatenate the taps first (im2col) and take one product: each the faster of
    the two for the DCGAN step (benchmarks/README.md, "Conv step").
    """
    kh, kw, _, features = kernel.shape
    if padding == "SAME":
        padding = (
            _same_padding(x.shape[1], kh, strides),
            _same_padding(x.shape[2], kw, strides),
        )
    if _implementation() == "xla":
        return lax.conv_general_dilated(
            x, kernel, (strides, strides), padding, dimension_numbers=_DN
        )
    x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
    out_h, out_w = (x.shape[1] - kh) // strides + 1, (x.shape[2] - kw) // strides + 1
    span_h, span_w = strides * (out_h - 1) + 1, strides * (out_w - 1) + 1

    def view(i, j):  # the input pixels that kernel tap (i, j) multiplies, (n, out_h, out_w, c)
        return x[:, i : i + span_h : strides, j : j + span_w : strides]

    if strides == 1:
        return sum(view(i, j) @ kernel[i, j] for i in range(kh) for j in range(kw))
    # (i, j, c_in) order, as the HWIO kernel flattens
    patches = jnp.concatenate([view(i, j) for i in range(kh) for j in range(kw)], axis=-1)
    return patches @ kernel.reshape(-1, features)


# --- spectral normalisation ---------------------------------------------------------------


def _unit(x: jax.Array) -> jax.Array:
    return x / (jnp.linalg.norm(x) + 1e-12)


def top_singular_value(matrix: jax.Array, iterations: int) -> jax.Array:
    """Power iteration estimate of the largest singular value of `matrix` (m, n).

    Miyato et al. 2018, Algorithm 1, stateless: v starts each call from the same fixed unit
    vector, u = Wv/|Wv|, v = W^T u/|W^T u|, then sigma = u^T W v with u and v held constant
    (stop_gradient), so d sigma / dW = u v^T as in the paper. The estimate never exceeds the
    true value; from a random initialisation it is within ~2.5% after 20 iterations and ~1%
    after 100 for the kernels of these models (it converges faster once training makes one
    direction dominant).
    """
    fixed = lax.stop_gradient(matrix)
    start = np.random.default_rng(0).standard_normal(matrix.shape[1]).astype(np.float32)
    v = lax.fori_loop(
        0, iterations, lambda _, v: _unit(fixed.T @ _unit(fixed @ v)), jnp.asarray(_unit(start))
    )
    u = _unit(fixed @ v)
    return u @ matrix @ v


def spectral_normalize(kernel: jax.Array, iterations: int) -> jax.Array:
    """The kernel divided by the top singular value of its (kh * kw * c_in, c_out) reshape
    (Miyato et al. 2018, Sec. 2.1: W_SN = W / sigma(W); a convolution's kernel is normalised as
    that matrix, as in the paper's code, which bounds the layer's Lipschitz constant only up to
    the number of windows an input pixel falls in)."""
    sigma = top_singular_value(kernel.reshape(-1, kernel.shape[-1]), iterations)
    return kernel / jnp.maximum(sigma, 1e-12)


# --- layers -------------------------------------------------------------------------------


class Conv(nn.Module):
    """k x k convolution, NHWC, "SAME" padding, optionally spectrally normalised."""

    features: int
    kernel_size: int
    strides: int = 1
    use_bias: bool = True
    spectral_norm: bool = False
    spectral_norm_iterations: int = 20

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape = (self.kernel_size, self.kernel_size, x.shape[-1], self.features)
        kernel = self.param("kernel", nn.initializers.lecun_normal(), shape)
        if self.spectral_norm:
            kernel = spectral_normalize(kernel, self.spectral_norm_iterations)
        y = conv2d(x, kernel, self.strides)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


class Dense(nn.Module):
    """A dense layer, optionally spectrally normalised."""

    features: int
    spectral_norm: bool = False
    spectral_norm_iterations: int = 20

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (x.shape[-1], self.features))
        if self.spectral_norm:
            kernel = spectral_normalize(kernel, self.spectral_norm_iterations)
        return x @ kernel + self.param("bias", nn.initializers.zeros, (self.features,))


def upsample_phases(x: jax.Array, kernels) -> jax.Array:
    """x2 upsampling from four 2x2 stride-1 convolutions, one per output phase (a, b):

        y[2m + a, 2n + b] = sum_{i, j in {0, 1}} x[m + a - 1 + i, n + b - 1 + j] kernels[a][b][i, j]

    (x zero outside the image). `kernels[a][b]` has shape (2, 2, c_in, c_out).

    Two orders of the same sums: four `conv2d`s, whose matmul path takes one product per tap
    of a shifted view of x (16 views of the c_in-wide map); or, on the matmul path for at most
    `COL2IM_MAX_CHANNELS` output channels, col2im: one product of x with all 16 taps' kernels,
    y[m, n, (a, b, i, j)] = x[m, n] kernels[a][b][i, j], then each phase the sum of 4 shifted
    slices of y, which reads x once where the views would copy it 16 times for products only
    c_out wide. Measured on the 28x28 DCGAN (benchmarks/README.md, "DCGAN step (real digits)"):
    the image layer's forward and gradient 4.5x faster, the train step ~1.15x; for the
    128-channel layer col2im is slower, so wide layers keep the per-phase products.
    """
    n, h, w, c_in = x.shape
    c_out = kernels[0][0].shape[-1]
    if c_out <= COL2IM_MAX_CHANNELS and _implementation() == "matmul":
        taps = jnp.stack([jnp.stack(row) for row in kernels])  # (a, b, i, j, c_in, c_out)
        y = x.reshape(-1, c_in) @ jnp.moveaxis(taps, 4, 0).reshape(c_in, 16 * c_out)
        y = y.reshape(n, h, w, 2, 2, 2, 2, c_out)
        y = jnp.pad(y, ((0, 0), (1, 1), (1, 1)) + ((0, 0),) * 5)  # y zero outside the image

        def phase(a, b):  # x[m + a - 1 + i] is the padded y's row m + a + i
            return sum(
                y[:, a + i : a + i + h, b + j : b + j + w, a, b, i, j]
                for i in (0, 1)
                for j in (0, 1)
            )

    else:
        pad = ((1, 0), (0, 1))  # phase 0 reads rows m - 1, m; phase 1 reads rows m, m + 1

        def phase(a, b):
            return conv2d(x, kernels[a][b], padding=(pad[a], pad[b]))

    rows = [jnp.stack([phase(a, 0), phase(a, 1)], axis=3) for a in (0, 1)]
    return jnp.stack(rows, axis=2).reshape(n, 2 * h, 2 * w, c_out)


def transposed_conv_2x(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """`lax.conv_transpose(x, kernel, (2, 2), "SAME")` for a 4x4 kernel (what `nn.ConvTranspose`
    computes, kernel not flipped): output phase a reads kernel taps a and a + 2 on each axis."""
    return upsample_phases(x, [[kernel[a::2, b::2] for b in (0, 1)] for a in (0, 1)])


# Nearest x2 then a 3x3 "SAME" convolution: along one axis output 2m reads the upsampled rows
# 2m - 1, 2m, 2m + 1 = input rows m - 1, m, m, so its 2-tap kernel is (k0, k1 + k2); output
# 2m + 1 reads m, m, m + 1: (k0 + k1, k2).
_RESIZE_TAPS = np.array([[[1, 0, 0], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]], np.float32)


def resize_conv_2x(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Nearest-neighbour x2 upsampling followed by a 3x3 "SAME" convolution with `kernel`."""
    taps = _RESIZE_TAPS
    return upsample_phases(
        x,
        [
            [jnp.einsum("ip,jq,pqco->ijco", taps[a], taps[b], kernel) for b in (0, 1)]
            for a in (0, 1)
        ],
    )


class Upsample(nn.Module):
    """Doubles H and W: a 4x4 transposed convolution ("transpose") or nearest + 3x3 ("resize")."""

    features: int
    method: str = "transpose"
    use_bias: bool = True
    spectral_norm: bool = False
    spectral_norm_iterations: int = 20

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        _check_choice("upsample", self.method, UPSAMPLE)
        size = 4 if self.method == "transpose" else 3
        shape = (size, size, x.shape[-1], self.features)
        kernel = self.param("kernel", nn.initializers.lecun_normal(), shape)
        if self.spectral_norm:
            kernel = spectral_normalize(kernel, self.spectral_norm_iterations)
        op = transposed_conv_2x if self.method == "transpose" else resize_conv_2x
        y = op(x, kernel)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


def _normalize(kind: str, x: jax.Array) -> jax.Array:
    """Per-sample normalisation, no batch statistics (see the module docstring)."""
    _check_choice("normalization", kind, NORMALIZATIONS)
    if kind == "layer":
        return nn.LayerNorm(reduction_axes=(-3, -2, -1), feature_axes=-1)(x)
    return x


# --- generator ----------------------------------------------------------------------------


class DCGANGenerator(nn.Module):
    """Radford et al. 2015, Sec. 3-4 and Fig. 1: z is projected to an s x s x (f * 2^k) map,
    then k - 1 upsampling blocks halve the width (f * 2^(k-1), ..., 2f) and a last one makes the
    C image channels, tanh. f = `base_features`; f = 64 at 64x64 is Fig. 1 (1024, 512, 256, 128,
    3), at 28x28 it gives 7x7x256 -> 14x14x128 -> 28x28x1. ReLU inside, normalisation after
    every hidden layer (LayerNorm instead of the paper's batch norm, see the module docstring).
    """

    data_shape: tuple[int, ...]
    latent_dim: int = 100
    base_features: int = 64
    upsample: str = "transpose"
    normalization: str = "layer"
    activation: str = "relu"

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train  # no batch statistics: LayerNorm or none
        _check_choice("upsample", self.upsample, UPSAMPLE)
        _check_choice("normalization", self.normalization, NORMALIZATIONS)
        start, blocks = conv_schedule(self.data_shape)
        act = ACTIVATIONS[self.activation]
        normalized = self.normalization != "none"
        width = self.base_features * 2**blocks
        x = nn.Dense(start * start * width, use_bias=not normalized)(z)
        x = act(_normalize(self.normalization, x.reshape(-1, start, start, width)))
        for block in range(1, blocks):
            x = Upsample(width // 2**block, self.upsample, use_bias=not normalized)(x)
            x = act(_normalize(self.normalization, x))
        return jnp.tanh(Upsample(self.data_shape[-1], self.upsample)(x))


# --- discriminators -----------------------------------------------------------------------


class _Encoder(nn.Module):
    """k stride-2 4x4 convolutions of widths f, 2f, ..., f * 2^(k-1) down to s x s, then a dense
    layer to `outputs` (DCGAN's D, Radford et al. 2015, Sec. 3; normalisation, if any, on every
    convolution but the first, as the paper's batch norm)."""

    outputs: int
    base_features: int
    activation: str
    normalization: str
    spectral_norm: bool
    spectral_norm_iterations: int

    @nn.compact
    def __call__(self, x: jax.Array, features: bool = False) -> jax.Array:
        _check_choice("normalization", self.normalization, NORMALIZATIONS)
        _, blocks = conv_schedule(x.shape[1:])
        act = ACTIVATIONS[self.activation]
        sn = dict(
            spectral_norm=self.spectral_norm, spectral_norm_iterations=self.spectral_norm_iterations
        )
        for block in range(blocks):
            norm = self.normalization if block > 0 else "none"
            x = Conv(self.base_features * 2**block, 4, 2, use_bias=norm == "none", **sn)(x)
            x = act(_normalize(norm, x))
        if features:  # the last hidden features, the dense layer's (n, s * s * width) input
            return x.reshape(x.shape[0], -1)
        return Dense(self.outputs, **sn)(x.reshape(x.shape[0], -1))


class DCGANDiscriminator(nn.Module):
    """DCGAN's D (Radford et al. 2015, Sec. 3): stride-2 convolutions with leaky ReLU (0.2), no
    pooling, widths `base_features` * (1, 2, 4, ...) down to 4x4 (7x7 for 28x28), then a dense
    layer to one logit per sample, shape (n,). `spectral_norm` normalises every layer (Miyato et
    al. 2018); `normalization="layer"` stands in for the paper's batch norm. `features=True`
    returns the last hidden features (the flattened last convolution) instead of the logits.
    """

    base_features: int = 64
    activation: str = "leaky_relu"
    normalization: str = "none"
    spectral_norm: bool = False
    spectral_norm_iterations: int = 20

    @nn.compact
    def __call__(self, x: jax.Array, features: bool = False) -> jax.Array:
        out = _Encoder(
            1,
            self.base_features,
            self.activation,
            self.normalization,
            self.spectral_norm,
            self.spectral_norm_iterations,
        )(x, features=features)
        return out if features else out[:, 0]


class _Decoder(nn.Module):
    """A dense layer to s x s x f * 2^(k-1), then k nearest x2 + 3x3 convolution blocks halving
    the width, the last one to the image channels, linear (BEGAN, Berthelot et al. 2017, Fig. 1)."""

    image_shape: tuple[int, ...]
    base_features: int
    activation: str
    normalization: str
    spectral_norm: bool
    spectral_norm_iterations: int

    @nn.compact
    def __call__(self, codes: jax.Array) -> jax.Array:
        start, blocks = conv_schedule(self.image_shape)
        act = ACTIVATIONS[self.activation]
        sn = dict(
            spectral_norm=self.spectral_norm, spectral_norm_iterations=self.spectral_norm_iterations
        )
        normalized = self.normalization != "none"
        width = self.base_features * 2 ** (blocks - 1)
        x = Dense(start * start * width, **sn)(codes).reshape(-1, start, start, width)
        x = act(_normalize(self.normalization, x))
        for block in range(1, blocks):
            x = Upsample(width // 2**block, "resize", use_bias=not normalized, **sn)(x)
            x = act(_normalize(self.normalization, x))
        return Upsample(self.image_shape[-1], "resize", **sn)(x)


class ConvAutoencoderDiscriminator(nn.Module):
    """The autoencoder D of EBGAN (Zhao et al. 2017, Sec. 2.3) and BEGAN (Berthelot et al. 2017,
    Sec. 3.4) for images: the DCGAN encoder to a linear code of `code_dim`, a mirrored decoder
    (nearest-neighbour upsampling) back to the image.

    Returns, like `MLPAutoencoderDiscriminator`, per-sample reconstruction errors averaged over
    pixels and channels, mean absolute ("l1", BEGAN's L) and mean squared ("l2", EBGAN's
    energy), and the codes ("codes", for EBGAN's pulling-away term).
    """

    base_features: int = 64
    code_dim: int = 64
    activation: str = "elu"
    normalization: str = "none"
    spectral_norm: bool = False
    spectral_norm_iterations: int = 20

    @nn.compact
    def __call__(self, x: jax.Array) -> dict[str, jax.Array]:
        parts = (
            self.base_features,
            self.activation,
            self.normalization,
            self.spectral_norm,
            self.spectral_norm_iterations,
        )
        codes = _Encoder(self.code_dim, *parts, name="encoder")(x)
        error = (_Decoder(tuple(x.shape[1:]), *parts, name="decoder")(codes) - x).reshape(
            x.shape[0], -1
        )
        return {
            "l1": jnp.mean(jnp.abs(error), axis=-1),
            "l2": jnp.mean(error**2, axis=-1),
            "codes": codes,
        }
