"""G-side regularisers (gan_jax/parts/regularizers.py) against independent numpy computations:
mode seeking (Mao et al. 2019), GDPP (Elfeki et al. 2019) and its eigen-decomposition's gradient
on repeated eigenvalues; D's last hidden features; the dynamic weight; one-line config errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import make_tiny_config

from gan_jax.parts import regularizers
from gan_jax.parts.models.dcgan import DCGANDiscriminator
from gan_jax.parts.models.mlp import MLPDiscriminator
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.experiment import dynamic_fields, dynamic_params, static_key
from gan_jax.step.train import init_run, make_train_chunk


def _inputs(**given):
    fields = dict(
        z=None,
        fake=None,
        real=None,
        d_real=None,
        d_fake=None,
        d_features=None,
        encode=None,
        code_log_prob=None,
    )
    return regularizers.RegularizerInputs(**{**fields, **given})


def test_mode_seeking_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4)).astype(np.float32)
    fake = rng.normal(size=(6, 3)).astype(np.float32)
    value, aux = regularizers.mode_seeking(_inputs(z=z, fake=fake), None)
    ratio = np.abs(fake[:3] - fake[3:]).mean() / np.abs(z[:3] - z[3:]).mean()
    np.testing.assert_allclose(value, 1.0 / (ratio + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(aux["g/mode_seeking_ratio"], ratio, rtol=1e-6)
    assert aux["g/regularizer"] == value


def _numpy_gdpp(fake, real, magnitude_weight=1e-4):
    def spectrum(phi):
        phi = phi / np.linalg.norm(phi, axis=1, keepdims=True)
        return np.linalg.eigh((phi @ phi.T).astype(np.float64))

    fake_values, fake_vectors = spectrum(fake)
    real_values, real_vectors = spectrum(real)
    magnitude = magnitude_weight * np.mean((fake_values - real_values) ** 2)
    weights = (real_values - real_values.min()) / (real_values.max() - real_values.min())
    structure = -np.sum(weights * np.sum(fake_vectors * real_vectors, axis=0))
    return magnitude + structure, magnitude


def test_gdpp_matches_numpy_and_its_magnitude_vanishes_on_equal_batches():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(6, 10)).astype(np.float32)  # 6 samples, full-rank 6 x 6 kernel
    fake = rng.normal(size=(6, 10)).astype(np.float32)
    loss, magnitude, _ = regularizers.gdpp_loss(jnp.asarray(fake), jnp.asarray(real))
    _, want_magnitude = _numpy_gdpp(fake, real)
    np.testing.assert_allclose(magnitude, want_magnitude, rtol=1e-4)
    # Eigenvectors' signs are arbitrary: LAPACK (numpy) and jax may pick different ones, so the
    # structure term is compared with each eigenvector pair's sign made to agree.
    values_f, vectors_f = regularizers.safe_eigh(_kernel(fake))
    values_r, vectors_r = regularizers.safe_eigh(_kernel(real))
    np_f = np.linalg.eigh(np.asarray(_kernel(fake), np.float64))[1]
    np_r = np.linalg.eigh(np.asarray(_kernel(real), np.float64))[1]
    np.testing.assert_allclose(np.abs(np.sum(np_f * vectors_f, 0)), 1, atol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(np_r * vectors_r, 0)), 1, atol=1e-4)
    flips = np.sign(np.sum(np_f * vectors_f, 0)) * np.sign(np.sum(np_r * vectors_r, 0))
    w = (values_r - values_r.min()) / (values_r.max() - values_r.min())
    structure_np = -np.sum(w * flips * np.sum(np_f * np_r, 0))
    np.testing.assert_allclose(loss, want_magnitude + structure_np, rtol=1e-4, atol=1e-5)

    same, same_magnitude, same_structure = regularizers.gdpp_loss(real, real)
    assert float(same_magnitude) == 0.0
    # v_i . v_i = 1: the structure term is minus the sum of the normalised eigenvalues.
    np.testing.assert_allclose(same_structure, -np.sum(w), rtol=1e-5)


def _kernel(features):
    phi = features / np.linalg.norm(features, axis=1, keepdims=True)
    return jnp.asarray(phi @ phi.T)


def test_gdpp_through_the_gram_matrix_equals_the_whole_kernels_loss_and_gradient():
    """With fewer features than samples (h = 4 < n = 12) L = phi phi^T has rank 4, and
    `gdpp_loss` eigendecomposes the 4 x 4 Gram matrix instead of L. Against L eigendecomposed
    whole: the same eigenvalues (L's other 8 exactly 0), the same eigenvectors up to sign, and,
    with the signs made to agree, the same loss and gradient in the fake features."""
    rng = np.random.default_rng(4)
    fake = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    real = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    rows = regularizers._normalised_rows
    flips = []
    for x in (fake, real):
        whole = regularizers._kernel_spectrum(rows(x))
        gram = regularizers._gram_spectrum(rows(x))
        np.testing.assert_allclose(gram[0], whole[0], atol=1e-5)
        assert np.all(gram[0][:8] == 0) and np.all(gram[1][:, :8] == 0)
        dots = np.sum(np.asarray(gram[1]) * np.asarray(whole[1]), axis=0)
        np.testing.assert_allclose(np.abs(dots[8:]), 1, atol=1e-4)
        flips.append(np.sign(dots))  # 0 on the null space, whose Gram vectors are 0 anyway

    def loss(spectrum, fake_flips, real_flips):
        def of_fake(f):
            (fv, fV), (rv, rV) = spectrum(rows(f)), spectrum(rows(real))
            return regularizers.gdpp_loss_of_spectra((fv, fV * fake_flips), (rv, rV * real_flips))[
                0
            ]

        return of_fake

    whole_loss = loss(regularizers._kernel_spectrum, 1.0, 1.0)
    gram_loss = loss(regularizers._gram_spectrum, *flips)
    np.testing.assert_allclose(gram_loss(fake), whole_loss(fake), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        jax.grad(gram_loss)(fake), jax.grad(whole_loss)(fake), rtol=1e-3, atol=1e-4
    )
    np.testing.assert_array_equal(
        regularizers.gdpp_loss(fake, real)[0],
        loss(regularizers._gram_spectrum, 1.0, 1.0)(fake),
    )


def test_gdpp_gradient_is_finite_on_repeated_eigenvalues():
    """Orthonormal features make the kernel exactly the identity (every eigenvalue 1), and a
    collapsed batch (8 samples, 2 distinct, 2-dimensional features) a rank-2 kernel with six
    eigenvalues ~0: jax's own eigh derivative divides by the eigenvalue gaps (Inf / NaN on the
    first); `safe_eigh` damps them, so GDPP's gradient stays finite on both, and on a rank-1
    batch whose Gram form divides by the square roots of eigenvalues ~0 (floored)."""
    rng = np.random.default_rng(2)
    real = jnp.asarray(rng.normal(size=(4, 6)), jnp.float32)
    orthonormal = jnp.eye(4, 6)
    collapsed = jnp.asarray(np.repeat(rng.normal(size=(2, 2)), 4, axis=0), jnp.float32)
    loss = lambda f, r: regularizers.gdpp_loss(f, r)[0]  # noqa: E731
    assert np.all(np.isfinite(jax.jit(jax.grad(loss))(orthonormal, real)))
    grad = jax.jit(jax.grad(loss))(collapsed, real[:, :2].repeat(2, axis=0))
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    # rank 1 with 3 features (the Gram form): two of its three eigenvalues are 0
    rank_one = jnp.asarray(rng.normal(size=(8, 1)) * np.ones((1, 3)), jnp.float32)
    grad = jax.jit(jax.grad(loss))(rank_one, real[:, :3].repeat(2, axis=0))
    assert np.all(np.isfinite(grad))

    def eigenvector_loss(eigh):
        return lambda a: jnp.sum(eigh(a)[1] * jnp.arange(16.0).reshape(4, 4))

    identity = jnp.eye(4)
    assert not np.all(np.isfinite(jax.grad(eigenvector_loss(jnp.linalg.eigh))(identity)))
    assert np.all(np.isfinite(jax.grad(eigenvector_loss(regularizers.safe_eigh))(identity)))


def test_safe_eigh_gradient_equals_jaxs_on_a_separated_spectrum():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    a = jnp.asarray((q * np.array([1.0, 2.0, 3.5, 5.0, 8.0])) @ q.T, jnp.float32)
    weights = jnp.asarray(rng.normal(size=(5, 5)), jnp.float32)

    def loss(eigh):
        return lambda m: jnp.sum(eigh(m)[1] ** 3 * weights) + jnp.sum(eigh(m)[0] ** 2)

    np.testing.assert_allclose(
        jax.grad(loss(regularizers.safe_eigh))(a),
        jax.grad(loss(jnp.linalg.eigh))(a),
        rtol=1e-3,
        atol=1e-4,
    )


def test_discriminators_expose_last_hidden_features_with_unchanged_params_and_outputs():
    x = jnp.ones((4, 2))
    d = MLPDiscriminator(hidden_sizes=(8, 6), minibatch_stddev=True)
    params = d.init(jax.random.PRNGKey(0), x)
    assert d.apply(params, x).shape == (4,)
    features = d.apply(params, x, features=True)
    assert features.shape == (4, 7)  # 6 hidden + the minibatch standard deviation
    last = params["params"][f"Dense_{2}"]
    np.testing.assert_allclose(
        d.apply(params, x), (features @ last["kernel"] + last["bias"])[:, 0], rtol=1e-6
    )
    images = jax.ShapeDtypeStruct((2, 8, 8, 1), jnp.float32)  # shapes only: nothing runs
    conv = DCGANDiscriminator(base_features=4)
    conv_params = jax.eval_shape(conv.init, jax.random.PRNGKey(0), images)
    apply = functools.partial(conv.apply, features=True)
    assert jax.eval_shape(apply, conv_params, images).shape == (2, 4 * 4 * 4)
    assert jax.eval_shape(conv.apply, conv_params, images).shape == (2,)


def test_regularised_runs_train_and_their_weight_is_dynamic():
    for name in ("mode_seeking", "gdpp"):  # 3 steps of each, on a batch of 8
        config = make_tiny_config(
            **{"batch_size": 8, "g_regularizer.name": name, "g_regularizer.weight": 0.5}
        )
        validate(config)
        assert dynamic_fields(config)["g_regularizer.weight"] == ("g_regularizer_weight",)
        assert dynamic_params(config)["g_regularizer_weight"] == 0.5
        other = make_tiny_config(
            **{"batch_size": 8, "g_regularizer.name": name, "g_regularizer.weight": 2.0}
        )
        assert static_key(other) == static_key(config)
        exp, state = init_run(config)
        state, metrics = jax.jit(make_train_chunk(exp, 3))(state)
        assert int(state.diverged_at) == -1
        assert np.all(np.isfinite(metrics["g/regularizer"]))
    assert "g_regularizer.weight" not in dynamic_fields(make_tiny_config())


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"g_regularizer.name": "dpp"}, "g_regularizer.name='dpp' is invalid: choose one of"),
        ({"g_regularizer.weight": -1.0}, "g_regularizer.weight=-1.0 is invalid"),
        ({"g_regularizer.weight": float("nan")}, "g_regularizer.weight=nan is invalid"),
        (
            {"g_regularizer.name": "gdpp", "objective": "ebgan", "model.d.name": "autoencoder"},
            "needs D's last hidden features",
        ),
        ({"g_regularizer.name": "reconstruction"}, "needs G's helper network"),
    ],
)
def test_bad_regularizer_fields_get_one_line(overrides, message):
    config = make_tiny_config()
    if "model.d.name" in overrides:  # the autoencoder D takes other fields than the MLP's
        config.model.d = type(config.model.d)(dict(name="autoencoder", hidden_sizes=(16,)))
        overrides = {k: v for k, v in overrides.items() if k != "model.d.name"}
    for field, value in overrides.items():
        node = config
        *parents, leaf = field.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert message in str(error.value) and "\n" not in str(error.value)
