"""DCGAN G/D and the conv autoencoder D: shapes, the size rule, the convolutions against Flax's
and XLA's own, spectral norm against an SVD, per-sample independence, and train steps."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax import lax

from configs import default
from gan_jax.parts import models, objectives, optim, penalties
from gan_jax.parts.models import dcgan
from gan_jax.step.experiment import Experiment, Unroll, dynamic_params
from gan_jax.step.train import init_state, make_train_chunk

KEY = jax.random.PRNGKey(0)


SIZES = [(8, 8, 1), (8, 8, 3), (28, 28, 1), (32, 32, 3), (64, 64, 3)]


def _kernels(params, name="kernel"):
    """{path: array} of every parameter called `name`."""
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return {
        jax.tree_util.keystr(p): v for p, v in flat if jax.tree_util.keystr(p[-1:]) == f"['{name}']"
    }


@pytest.mark.parametrize("shape", SIZES)
def test_generator_and_discriminators_shapes(shape):
    G = dcgan.DCGANGenerator(shape, latent_dim=5, base_features=2)
    D = dcgan.DCGANDiscriminator(base_features=2)
    A = dcgan.ConvAutoencoderDiscriminator(base_features=2, code_dim=4)

    @jax.jit
    def run(key):
        g_params = G.init(key, jnp.zeros((1, 5)))
        x = G.apply(g_params, jax.random.normal(key, (3, 5)))
        return g_params, x, D.apply(D.init(key, x), x), A.apply(A.init(key, x), x)

    if shape[0] == 8:
        g_params, x, logits, energies = run(KEY)
        assert jnp.all(jnp.abs(x) <= 1.0) and jnp.std(x) > 0
    else:  # shapes only: tracing, no compilation
        g_params, x, logits, energies = jax.eval_shape(run, KEY)
    assert x.shape == (3, *shape)
    # Radford et al.'s widths: s x s x (f * 2^k), halving per block, the last block -> C
    start, blocks = dcgan.conv_schedule(shape)
    upsample_widths = [k.shape[-1] for p, k in _kernels(g_params).items() if "Upsample" in p]
    assert upsample_widths == [2 * 2**blocks // 2**b for b in range(1, blocks)] + [shape[-1]]
    assert _kernels(g_params)["['params']['Dense_0']['kernel']"].shape[-1] == (
        start * start * 2 * 2**blocks
    )
    assert logits.shape == (3,)
    assert {k: v.shape for k, v in energies.items()} == {"l1": (3,), "l2": (3,), "codes": (3, 4)}


@pytest.mark.parametrize("shape", [(8, 8, 3), (28, 28, 1)])
def test_resize_generator_shapes(shape):
    G = dcgan.DCGANGenerator(shape, latent_dim=5, base_features=2, upsample="resize")

    @jax.jit
    def run(key):
        params = G.init(key, jnp.zeros((1, 5)))
        return params, G.apply(params, jax.random.normal(key, (2, 5)))

    params, x = run(KEY)
    assert x.shape == (2, *shape) and jnp.all(jnp.abs(x) <= 1.0)
    # 3x3 kernels for nearest + conv (4x4 for the transposed convolution)
    assert _kernels(params)["['params']['Upsample_0']['kernel']"].shape[:2] == (3, 3)


@pytest.mark.parametrize("shape", [(24, 24, 1), (28, 32, 1), (4, 4, 1), (7, 7, 1), (28, 28)])
def test_unsupported_sizes_raise_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"H == W = s \* 2\^k"):
        dcgan.DCGANGenerator(shape, latent_dim=5).init(KEY, jnp.zeros((1, 5)))
    if len(shape) == 3:
        with pytest.raises(ValueError, match=r"data shape"):
            dcgan.DCGANDiscriminator(base_features=2).init(KEY, jnp.zeros((2, *shape)))


def test_unknown_options_raise():
    with pytest.raises(ValueError, match="upsample='bilinear'"):
        dcgan.DCGANGenerator((8, 8, 1), 5, upsample="bilinear").init(KEY, jnp.zeros((1, 5)))
    with pytest.raises(ValueError, match="normalization='batch'"):
        dcgan.DCGANDiscriminator(normalization="batch").init(KEY, jnp.zeros((2, 8, 8, 1)))


@pytest.mark.parametrize("implementation", ["matmul", "xla"])
def test_upsampling_matches_flax_layers(monkeypatch, implementation):
    """upsample="transpose" is nn.ConvTranspose(4x4, stride 2, SAME), "resize" is nearest x2 then
    nn.Conv(3x3), with either convolution implementation."""
    monkeypatch.setattr(dcgan, "CONV_IMPLEMENTATION", implementation)
    k1, k2, k3 = jax.random.split(KEY, 3)
    x = jax.random.normal(k1, (2, 5, 6, 3))
    kernel4 = jax.random.normal(k2, (4, 4, 3, 7))
    flax_transpose = nn.ConvTranspose(7, (4, 4), (2, 2), padding="SAME", use_bias=False)
    expected = flax_transpose.apply({"params": {"kernel": kernel4}}, x)
    np.testing.assert_allclose(dcgan.transposed_conv_2x(x, kernel4), expected, atol=1e-4)
    kernel3 = jax.random.normal(k3, (3, 3, 3, 7))
    nearest = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
    expected = nn.Conv(7, (3, 3), padding="SAME", use_bias=False).apply(
        {"params": {"kernel": kernel3}}, nearest
    )
    np.testing.assert_allclose(dcgan.resize_conv_2x(x, kernel3), expected, atol=1e-4)


@pytest.mark.parametrize("op", [dcgan.transposed_conv_2x, dcgan.resize_conv_2x])
@pytest.mark.parametrize("channels", [1, 3])
def test_col2im_upsampling_is_the_phase_convolutions_to_second_order(monkeypatch, op, channels):
    """The image layer's col2im path (one product, then shifted sums) computes what the
    per-phase products compute, in value, gradient and a second derivative."""
    monkeypatch.setattr(dcgan, "CONV_IMPLEMENTATION", "matmul")
    k1, k2 = jax.random.split(KEY)
    x = jax.random.normal(k1, (2, 5, 6, 8))
    size = 4 if op is dcgan.transposed_conv_2x else 3
    w = jax.random.normal(k2, (size, size, 8, channels)) / 8

    def via(max_channels):
        monkeypatch.setattr(dcgan, "COL2IM_MAX_CHANNELS", max_channels)
        loss = lambda x, w: jnp.sum(jnp.tanh(op(x, w)))  # noqa: E731
        grads = jax.grad(loss, argnums=(0, 1))
        second = jax.grad(lambda x, w: jnp.sum(grads(x, w)[1] ** 2))
        traced = jax.make_jaxpr(lambda x, w: op(x, w))(x, w)
        products = str(traced).count("dot_general")
        return jax.jit(lambda x, w: (op(x, w), grads(x, w), second(x, w)))(x, w), products

    col2im, col2im_products = via(channels)
    phases, phase_products = via(0)
    assert phase_products - col2im_products == 15  # one product for x, not one per tap
    for got, want in zip(jax.tree.leaves(col2im), jax.tree.leaves(phases), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("size,kernel,stride", [(9, 4, 2), (7, 3, 1)])
def test_matmul_conv_matches_xla_conv_to_second_order(size, kernel, stride):
    k1, k2 = jax.random.split(KEY)
    x = jax.random.normal(k1, (2, size, size + 1, 3))
    w = jax.random.normal(k2, (kernel, kernel, 3, 4)) / (3 * kernel)

    def via(implementation):
        def f(x, w):
            pad = dcgan._same_padding  # the XLA convention, checked against it below
            padding = (pad(x.shape[1], kernel, stride), pad(x.shape[2], kernel, stride))
            if implementation == "reference":
                return lax.conv_general_dilated(
                    x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
                )
            dcgan.CONV_IMPLEMENTATION = implementation
            try:
                return dcgan.conv2d(x, w, stride, padding)
            finally:
                dcgan.CONV_IMPLEMENTATION = None

        loss = lambda x, w: jnp.sum(jnp.tanh(f(x, w)))  # noqa: E731
        grads = jax.grad(loss, argnums=(0, 1))
        second = jax.grad(lambda x, w: jnp.sum(grads(x, w)[1] ** 2))  # d/dx of a kernel grad
        return jax.jit(lambda x, w: (f(x, w), grads(x, w), second(x, w)))(x, w)

    expected = via("reference")
    for implementation in ("matmul", "xla"):
        for got, want in zip(
            jax.tree.leaves(via(implementation)), jax.tree.leaves(expected), strict=True
        ):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_power_iteration_against_svd():
    init = nn.initializers.lecun_normal()
    shapes = [(16, 8), (4 * 4 * 8, 16), (3 * 3 * 16, 4), (50, 1)]
    matrices = [init(jax.random.PRNGKey(i), shape) for i, shape in enumerate(shapes)]
    estimates = jax.jit(
        lambda ms: [[dcgan.top_singular_value(m, n) for n in (20, 100)] for m in ms]
    )(matrices)
    for matrix, (after_20, after_100) in zip(matrices, estimates, strict=True):
        true = np.linalg.svd(np.asarray(matrix), compute_uv=False)[0]
        # the estimate |W v| never exceeds sigma_max
        assert true * 0.97 <= after_20 <= after_100 * (1 + 1e-6)
        assert true * 0.99 <= after_100 <= true * (1 + 1e-5)


def test_spectral_norm_normalizes_every_layer_and_bounds_the_gradient():
    x = jax.random.normal(KEY, (4, 16, 16, 2))
    D = dcgan.DCGANDiscriminator(base_features=4, spectral_norm=True, spectral_norm_iterations=50)
    plain = dcgan.DCGANDiscriminator(base_features=4)

    def input_grad_norms(module, params):
        grads = jax.grad(lambda v: jnp.sum(module.apply(params, v)))(x)
        return jnp.sqrt(jnp.sum(grads**2, axis=(1, 2, 3)))

    @jax.jit
    def run(key):
        params = D.init(key, x)
        # every kernel blown up 10x: spectral norm makes D invariant to it
        scaled = jax.tree_util.tree_map_with_path(
            lambda p, v: 10 * v if jax.tree_util.keystr(p).endswith("['kernel']") else v, params
        )
        normalized = {p: dcgan.spectral_normalize(k, 50) for p, k in _kernels(scaled).items()}
        return (
            D.apply(params, x),
            D.apply(scaled, x),
            normalized,
            input_grad_norms(D, scaled),
            input_grad_norms(plain, scaled),
        )

    logits, scaled_logits, normalized, norms, plain_norms = run(KEY)
    np.testing.assert_allclose(scaled_logits, logits, rtol=1e-4, atol=1e-5)
    assert len(normalized) == 3  # two convolutions and the dense layer
    for kernel in normalized.values():
        sigma = np.linalg.svd(np.asarray(kernel).reshape(-1, kernel.shape[-1]), compute_uv=False)
        assert 1.0 - 1e-4 <= sigma[0] <= 1.02
    # Lipschitz: a 4x4 stride-2 convolution uses each input pixel at most 2x2 times, so its
    # operator norm is <= 2 sigma(reshaped kernel); leaky ReLU is 1-Lipschitz.
    bound = (2 * 1.02) ** 2 * 1.02
    assert jnp.all(norms <= bound)
    assert jnp.max(plain_norms) > bound  # without spectral norm the same kernels exceed it


def test_autoencoder_energies_are_its_reconstruction_errors():
    x = jax.random.uniform(KEY, (3, 8, 8, 3), minval=-1, maxval=1)
    A = dcgan.ConvAutoencoderDiscriminator(base_features=2, code_dim=4)
    params = jax.jit(A.init)(KEY, x)
    out, state = jax.jit(lambda p: A.apply(p, x, capture_intermediates=True))(params)
    reconstruction = state["intermediates"]["decoder"]["__call__"][0]
    codes = state["intermediates"]["encoder"]["__call__"][0]
    assert reconstruction.shape == x.shape
    np.testing.assert_allclose(out["l1"], np.abs(reconstruction - x).mean(axis=(1, 2, 3)), 1e-5)
    np.testing.assert_allclose(out["l2"], ((reconstruction - x) ** 2).mean(axis=(1, 2, 3)), 1e-5)
    np.testing.assert_allclose(out["codes"], codes)
    # a decoder whose last layer is zero reconstructs 0: the energies are mean |x| and mean x^2
    last = sorted(k for k in params["params"]["decoder"] if k.startswith("Upsample"))[-1]
    zeroed = jax.tree.map(lambda v: v, params)
    zeroed["params"]["decoder"][last] = jax.tree.map(
        jnp.zeros_like, params["params"]["decoder"][last]
    )
    out = jax.jit(A.apply)(zeroed, x)
    np.testing.assert_allclose(out["l1"], np.abs(x).mean(axis=(1, 2, 3)), 1e-6)
    np.testing.assert_allclose(out["l2"], (x**2).mean(axis=(1, 2, 3)), 1e-6)


@pytest.mark.parametrize(
    "module",
    [
        dcgan.DCGANDiscriminator(base_features=2, normalization="layer", spectral_norm=True),
        dcgan.ConvAutoencoderDiscriminator(base_features=2, code_dim=3, normalization="layer"),
    ],
)
def test_discriminator_output_depends_on_its_own_sample_only(module):
    """No batch statistics: gradient penalties take D's per-sample outputs as independent."""
    k1, k2 = jax.random.split(KEY)
    x = jax.random.normal(k1, (4, 8, 8, 1))
    params = jax.jit(module.init)(KEY, x)
    changed = x.at[1:].set(jax.random.normal(k2, (3, 8, 8, 1)))
    both = jax.jit(jax.vmap(module.apply, (None, 0)))(params, jnp.stack([x, changed]))
    before, after = jax.tree.map(lambda v: v[0], both), jax.tree.map(lambda v: v[1], both)
    for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
        assert not np.allclose(a[1:], b[1:])


def test_generator_sample_depends_on_its_own_latent_only():
    G = dcgan.DCGANGenerator((8, 8, 1), latent_dim=5, base_features=2)
    params = jax.jit(G.init)(KEY, jnp.zeros((1, 5)))
    z = jax.random.normal(KEY, (3, 5))
    both = jax.jit(jax.vmap(G.apply, (None, 0)))(params, jnp.stack([z, z.at[1:].set(-z[1:] + 0.5)]))
    np.testing.assert_allclose(both[1, 0], both[0, 0], rtol=1e-6)
    assert not np.allclose(both[1, 1:], both[0, 1:])


class _StandInImages:
    """Uniform random 8x8x1 uint8 images scaled to [-1, 1] (a stand-in for sklearn digits)."""

    name = "standin"
    shape = (8, 8, 1)

    def sample(self, key, n):
        pixels = jax.random.randint(key, (n, *self.shape), 0, 256).astype(jnp.uint8)
        return pixels.astype(jnp.float32) / 127.5 - 1.0


def _experiment(objective, discriminator, unroll):
    config = default.get_config()
    return Experiment(
        dataset=_StandInImages(),
        generator=dcgan.DCGANGenerator((8, 8, 1), latent_dim=4, base_features=2),
        discriminator=discriminator,
        objective=objectives.get_objective(objective),
        penalty=penalties.PENALTIES["none"],
        g_optimizer=optim.make_optimizer(config.optim.g),
        d_optimizer=optim.make_optimizer(config.optim.d),
        batch_size=4,
        n_d_steps=1,
        update_order="alternating",
        unroll=Unroll(steps=unroll, second_order=True, fresh_batches=False, remat=False),
        eval_samples=4,
    )


def _moved(before, after):
    return all(
        bool(jnp.any(a != b))
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    )


def test_unrolled_second_order_steps_vmapped_over_two_runs():
    """Two train steps of two runs at once, one second-order unrolled D step through a spectrally
    normalised, layer-normalised D: finite, every parameter moved, runs independent."""
    D = dcgan.DCGANDiscriminator(base_features=2, normalization="layer", spectral_norm=True)
    exp = _experiment("nonsaturating", D, unroll=1)
    dynamic = dynamic_params(default.get_config())
    keys = jnp.stack([jax.random.PRNGKey(0), jax.random.PRNGKey(1)])
    stacked = jax.jit(jax.vmap(lambda key: init_state(exp, key, dynamic)))(keys)
    final, metrics = jax.jit(jax.vmap(make_train_chunk(exp, 2)))(stacked)
    assert jnp.all(final.step == 2) and jnp.all(final.diverged_at == -1)
    assert all(jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(metrics))
    for run in (0, 1):
        pick = lambda tree: jax.tree.map(lambda v: v[run], tree)  # noqa: E731,B023
        assert _moved(pick(stacked.g_params), pick(final.g_params))
        assert _moved(pick(stacked.d_params), pick(final.d_params))
    assert not np.allclose(metrics["g/loss"][0], metrics["g/loss"][1])


def test_began_step_with_the_conv_autoencoder():
    """BEGAN's objective (energy D, k_t state) runs unchanged on the conv autoencoder."""
    exp = _experiment("began", dcgan.ConvAutoencoderDiscriminator(base_features=2, code_dim=3), 0)
    config = default.get_config()
    config.objective, config.loss = "began", ml_collections.ConfigDict()
    dynamic = dynamic_params(config)
    state = jax.jit(lambda key: init_state(exp, key, dynamic))(KEY)
    final, metrics = jax.jit(make_train_chunk(exp, 2))(state)
    assert final.diverged_at == -1
    assert all(jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(metrics))
    assert jnp.all(metrics["began/k"] >= 0) and jnp.all(metrics["d/real_output"] > 0)
    assert _moved(state.d_params, final.d_params) and _moved(state.g_params, final.g_params)


def test_registered_by_name_with_their_outputs():
    g_cfg = ml_collections.ConfigDict(dict(name="dcgan", latent_dim=4, base_features=2))
    assert isinstance(models.make_generator(g_cfg, (8, 8, 1)), dcgan.DCGANGenerator)
    for name, output in (("dcgan", "logit"), ("conv_autoencoder", "energy")):
        d_cfg = ml_collections.ConfigDict(dict(name=name, base_features=2, spectral_norm=True))
        assert isinstance(models.make_discriminator(d_cfg), models.DISCRIMINATORS[name])
        assert models.DISCRIMINATOR_OUTPUTS[name] == output
