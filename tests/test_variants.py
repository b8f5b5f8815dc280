"""The variants of the balance and mode-collapse issue, each checked against an independent
computation: hand-computed losses, closed-form optimal discriminators, finite differences."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import make_tiny_config

from gan_jax.parts import objectives, penalties
from gan_jax.parts.models import MLPAutoencoderDiscriminator, MLPDiscriminator
from gan_jax.parts.models.mlp import MinibatchDiscrimination
from gan_jax.parts.objectives.ebgan import pulling_away
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.train import init_run, make_train_chunk

D_REAL = np.array([2.0, -1.0, 0.5], np.float32)
D_FAKE = np.array([-3.0, 0.0, 1.5], np.float32)


def _loss(name, which, *args, **hparams):
    objective = objectives.get_objective(name)
    params = {**objective.hparams, **hparams}
    state = objective.init_state()
    fn = objective.d_loss if which == "d" else objective.g_loss
    return jax.jit(lambda *a: fn(*a, state, params))(*args)


def test_lsgan_losses_match_hand_computation():
    d, aux = _loss("lsgan", "d", D_REAL, D_FAKE)
    np.testing.assert_allclose(
        d, 0.5 * np.mean((D_REAL - 1) ** 2) + 0.5 * np.mean((D_FAKE + 1) ** 2), rtol=1e-6
    )
    g, _ = _loss("lsgan", "g", D_FAKE)
    np.testing.assert_allclose(g, 0.5 * np.mean(D_FAKE**2), rtol=1e-6)
    g011, _ = _loss("lsgan", "g", D_FAKE, a=0.0, c=1.0)
    np.testing.assert_allclose(g011, 0.5 * np.mean((D_FAKE - 1) ** 2), rtol=1e-6)
    np.testing.assert_allclose(aux["d/real_accuracy"], 2 / 3)  # 2.0 and 0.5 are above 0


def test_hinge_and_wasserstein_losses_match_hand_computation():
    d, _ = _loss("hinge", "d", D_REAL, D_FAKE)
    want = np.mean(np.maximum(0, 1 - D_REAL)) + np.mean(np.maximum(0, 1 + D_FAKE))
    np.testing.assert_allclose(d, want, rtol=1e-6)
    np.testing.assert_allclose(_loss("hinge", "g", D_FAKE)[0], -np.mean(D_FAKE), rtol=1e-6)
    d, aux = _loss("wasserstein", "d", D_REAL, D_FAKE)
    np.testing.assert_allclose(d, np.mean(D_FAKE) - np.mean(D_REAL), rtol=1e-6)
    np.testing.assert_allclose(aux["d/wasserstein_estimate"], np.mean(D_REAL) - np.mean(D_FAKE))
    np.testing.assert_allclose(_loss("wasserstein", "g", D_FAKE)[0], -np.mean(D_FAKE), rtol=1e-6)


def _energies(l2, codes=None):
    l2 = jnp.asarray(l2, jnp.float32)
    codes = jnp.eye(len(l2), 4) if codes is None else jnp.asarray(codes, jnp.float32)
    return {"l1": jnp.sqrt(l2), "l2": l2, "codes": codes}


def test_ebgan_margin_loss_matches_hand_computation():
    real, fake = _energies([0.5, 1.5]), _energies([0.2, 3.0])
    d, _ = _loss("ebgan", "d", real, fake, margin=1.0)
    np.testing.assert_allclose(d, np.mean([0.5, 1.5]) + np.mean([0.8, 0.0]), rtol=1e-6)
    g, aux = _loss("ebgan", "g", fake, pt_weight=0.1)
    np.testing.assert_allclose(g, np.mean([0.2, 3.0]), rtol=1e-6)  # orthogonal codes: PT = 0
    assert float(aux["g/pulling_away"]) == pytest.approx(0.0, abs=1e-7)


def test_pulling_away_term_is_zero_for_orthogonal_and_one_for_parallel_codes():
    assert float(pulling_away(jnp.eye(4) * jnp.array([1.0, 2, 3, 4])[:, None])) == pytest.approx(
        0.0, abs=1e-7
    )
    parallel = jnp.array([[1.0, 2.0], [2.0, 4.0], [-3.0, -6.0]])
    assert float(pulling_away(parallel)) == pytest.approx(1.0, rel=1e-5)
    # two codes at 60 degrees: cos^2 = 1/4, for both ordered pairs
    sixty = jnp.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    assert float(pulling_away(sixty)) == pytest.approx(0.25, rel=1e-5)


def test_began_losses_and_k_update():
    objective = objectives.get_objective("began")
    params = {"gamma": 0.5, "lambda_k": 0.1}
    real, fake = _energies([1.0, 4.0]), _energies([0.25, 0.25])  # L1: real 1.5, fake 0.5
    state = {"k": jnp.float32(0.3)}
    d, aux = objective.d_loss(real, fake, state, params)
    np.testing.assert_allclose(d, 1.5 - 0.3 * 0.5, rtol=1e-6)
    np.testing.assert_allclose(aux["began/m_global"], 1.5 + abs(0.5 * 1.5 - 0.5), rtol=1e-6)
    np.testing.assert_allclose(objective.g_loss(fake, state, params)[0], 0.5, rtol=1e-6)
    # gamma L(x) > L(G(z)): G's samples are too easy to reconstruct, so k grows by lambda_k * 0.25
    grown = objective.update_state(state, aux, params)["k"]
    np.testing.assert_allclose(grown, 0.3 + 0.1 * 0.25, rtol=1e-6)
    # and shrinks the other way
    _, aux = objective.d_loss(fake, real, state, params)
    assert float(objective.update_state(state, aux, params)["k"]) < 0.3


def test_began_k_stays_in_unit_interval():
    objective = objectives.get_objective("began")
    params = {"gamma": 1.0, "lambda_k": 10.0}  # huge steps must still clip
    state = objective.init_state()
    for real_l2, fake_l2 in [(4.0, 0.01), (4.0, 0.01), (0.01, 4.0), (0.01, 4.0), (0.01, 4.0)]:
        _, aux = objective.d_loss(_energies([real_l2]), _energies([fake_l2]), state, params)
        state = objective.update_state(state, aux, params)
        assert 0.0 <= float(state["k"]) <= 1.0
    assert float(state["k"]) == 0.0
    _, aux = objective.d_loss(_energies([4.0]), _energies([0.01]), state, params)
    assert float(objective.update_state(state, aux, params)["k"]) == 1.0


def _train_linear_d(name, real, fake, transform, steps=1500):
    """Trains D(x) = transform(w x + b) on fixed samples with the objective's D loss alone."""
    objective = objectives.get_objective(name)
    params = {"w": jnp.zeros(()), "b": jnp.zeros(())}
    optimizer = optax.adam(0.05)
    opt_state = optimizer.init(params)

    def loss(p):
        d = lambda x: transform(p["w"] * x + p["b"])
        return objective.d_loss(d(real), d(fake), (), objective.hparams)[0]

    @jax.jit
    def step(p, s):
        updates, s = optimizer.update(jax.grad(loss)(p), s)
        return optax.apply_updates(p, updates), s

    for _ in range(steps):
        params, opt_state = step(params, opt_state)
    return float(params["w"]), float(params["b"])


def _unit_gaussians(n=20_000):
    """p_data = N(0, 1), p_g = N(1, 1): log p_data(x) - log p_g(x) = 1/2 - x."""
    real = jax.random.normal(jax.random.PRNGKey(0), (n,))
    fake = 1.0 + jax.random.normal(jax.random.PRNGKey(1), (n,))
    return real, fake


def test_nonsaturating_d_recovers_the_optimal_discriminator():
    # D*(x) = p_data / (p_data + p_g): its logit is log p_data - log p_g = -x + 1/2.
    w, b = _train_linear_d("nonsaturating", *_unit_gaussians(), transform=lambda t: t)
    assert w == pytest.approx(-1.0, abs=0.08) and b == pytest.approx(0.5, abs=0.06)


def test_lsgan_d_recovers_the_optimal_discriminator():
    # Mao et al. 2017, Eq. 4: D*(x) = (b p_data + a p_g) / (p_data + p_g) with a=-1, b=1, which
    # is tanh((log p_data - log p_g) / 2) = tanh(-x/2 + 1/4).
    w, b = _train_linear_d("lsgan", *_unit_gaussians(), transform=jnp.tanh)
    assert w == pytest.approx(-0.5, abs=0.05) and b == pytest.approx(0.25, abs=0.04)


def _smooth_d(x):
    weights = jnp.array([[0.7, -1.3], [0.4, 0.9]])
    return jnp.sum(jnp.sin(x @ weights), axis=-1) + 0.3 * jnp.sum(x**2, axis=-1)


def test_gradient_penalty_equals_a_finite_difference_estimate():
    real = jax.random.normal(jax.random.PRNGKey(0), (6, 2))
    fake = jax.random.normal(jax.random.PRNGKey(1), (6, 2)) + 1.0
    key = jax.random.PRNGKey(2)
    got = penalties.gradient_penalty(_smooth_d, real, fake, key)
    eps = jax.random.uniform(key, (6, 1))
    points = np.asarray(eps * real + (1 - eps) * fake, np.float64)
    d64 = lambda x: (
        np.sum(np.sin(x @ np.array([[0.7, -1.3], [0.4, 0.9]])), -1) + 0.3 * np.sum(x**2, -1)
    )
    h = 1e-5
    grads = np.stack(
        [(d64(points + h * e) - d64(points - h * e)) / (2 * h) for e in np.eye(2)], axis=-1
    )
    want = np.mean((np.linalg.norm(grads, axis=-1) - 1) ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def test_r1_penalty_of_a_linear_d_is_half_the_squared_weight_norm():
    w = jnp.array([3.0, -4.0])
    real = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    got = penalties.r1_penalty(lambda x: x @ w, real, None, None)
    np.testing.assert_allclose(got, 0.5 * 25.0, rtol=1e-6)


def _minibatch_layer(x):
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    params = layer.init(jax.random.PRNGKey(0), x)
    return lambda v: layer.apply(params, v)


def test_minibatch_discrimination_sees_the_rest_of_the_batch():
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 4))
    layer = _minibatch_layer(x)
    out = layer(x)
    assert out.shape == (5, 4 + 3)
    changed = layer(x.at[4].set(x[4] + 1.0))
    # sample 0 is unchanged, yet its minibatch features move because sample 4 moved
    np.testing.assert_array_equal(changed[0, :4], out[0, :4])
    assert np.max(np.abs(changed[0, 4:] - out[0, 4:])) > 1e-4


def test_minibatch_discrimination_is_invariant_to_batch_order():
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 4))
    layer = _minibatch_layer(x)
    order = jnp.array([3, 0, 5, 1, 4, 2])
    np.testing.assert_allclose(layer(x[order]), layer(x)[order], rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_and_packing_change_what_d_sees():
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 2))
    packed = MLPDiscriminator(hidden_sizes=(4,), pack=4)
    params = packed.init(jax.random.PRNGKey(0), x)
    assert packed.apply(params, x).shape == (2,)
    # PacGAN: D's first layer sees 4 concatenated samples
    assert params["params"]["Dense_0"]["kernel"].shape == (8, 4)
    stddev = MLPDiscriminator(hidden_sizes=(4,), minibatch_stddev=True)
    p = stddev.init(jax.random.PRNGKey(0), x)
    assert p["params"]["Dense_1"]["kernel"].shape == (5, 1)
    spread_out = stddev.apply(p, x * 3.0)[0]
    assert not np.isclose(stddev.apply(p, x)[0], spread_out)


def test_autoencoder_d_returns_per_sample_errors_and_codes():
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 2))
    module = MLPAutoencoderDiscriminator(hidden_sizes=(8,), code_dim=3)
    params = module.init(jax.random.PRNGKey(0), x)
    out = module.apply(params, x)
    assert out["l1"].shape == (7,) and out["l2"].shape == (7,) and out["codes"].shape == (7, 3)
    assert np.all(out["l2"] >= 0)


VARIANT_CONFIGS = ["lsgan", "hinge", "wgan_gp", "ebgan", "began", "minibatch", "pacgan"]


@pytest.mark.parametrize("name", VARIANT_CONFIGS)
def test_variant_configs_train_a_few_finite_steps(name):
    config = importlib.import_module(f"configs.{name}").get_config()
    validate(config)
    config.batch_size = 32
    config.model.g.latent_dim = 8
    config.model.g.hidden_sizes = (16, 16)
    config.model.d.hidden_sizes = (16,)
    validate(config)
    exp, state = init_run(config)
    state, metrics = jax.jit(make_train_chunk(exp, 3))(state)
    assert int(state.diverged_at) == -1
    for key in ("d/loss", "g/loss", "d/real_accuracy", "d/fake_accuracy", "g_over_d_grad_norm"):
        assert np.all(np.isfinite(metrics[key])), key
    if name == "began":
        assert "began/k" in metrics and "began/m_global" in metrics
    if name == "wgan_gp":
        assert np.all(metrics["d/penalty"] > 0)
        assert int(state.d_opt_state.inner_state[0].count) == 15  # 5 critic steps x 3


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"objective": "ebgan", "loss.margin": -1.0}, r"loss.margin=-1.0 is invalid: must be > 0"),
        (
            {"objective": "began", "loss.gamma": 1.5},
            r"loss.gamma=1.5 is invalid: must be in \(0, 1\]",
        ),
        (
            {"objective": "began", "loss.gamma": 0.0},
            r"loss.gamma=0.0 is invalid: must be in \(0, 1\]",
        ),
        ({"objective": "lsgan", "loss.a": 1.0}, r"loss.a=1.0 is invalid: must differ from loss.b"),
        (
            {"penalty.name": "r2"},
            r"penalty.name='r2' is invalid: choose one of \['gp', 'none', 'r1'\]",
        ),
        ({"penalty.weight": -1.0}, r"penalty.weight=-1.0 is invalid: must be a finite number >= 0"),
        ({"model.d.pack": 3}, r"batch_size=32 is invalid: must be divisible by model.d.pack=3"),
    ],
)
def test_invalid_variant_values_get_one_line(overrides, message):
    config = make_tiny_config()
    for field, value in overrides.items():
        node = config
        *parents, leaf = field.split(".")
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    if config.objective in ("ebgan", "began"):
        config.model.d = importlib.import_module(f"configs.{config.objective}").get_config().model.d
    with pytest.raises(ConfigError, match=message):
        validate(config)


def test_energy_objective_needs_an_autoencoder_d():
    config = make_tiny_config(objective="began")
    with pytest.raises(
        ConfigError,
        match=r"model.d.name='mlp' is invalid: objective 'began' needs a D with energy output; choose one of \['autoencoder', 'conv_autoencoder'\]",
    ):
        validate(config)


def test_gradient_penalty_is_finite_where_d_is_flat():
    flat = lambda x: jnp.zeros(x.shape[0])
    real = jnp.ones((4, 2))
    value, grad = jax.value_and_grad(
        lambda r: penalties.gradient_penalty(flat, r, -r, jax.random.PRNGKey(0))
    )(real)
    assert float(value) == pytest.approx(1.0, rel=1e-5) and np.all(np.isfinite(grad))


def test_penalties_refuse_ds_that_mix_samples():
    for field, value in (("pack", 4), ("minibatch_kernels", 3), ("minibatch_stddev", True)):
        config = make_tiny_config(**{"penalty.name": "gp", f"model.d.{field}": value})
        with pytest.raises(
            ConfigError, match=r"penalty.name='gp' is invalid: a per-sample gradient penalty"
        ):
            validate(config)


def test_minibatch_discrimination_matches_a_numpy_reference():
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 4))
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    params = layer.init(jax.random.PRNGKey(0), x)
    t = np.asarray(params["params"]["T"]["kernel"]).reshape(4, 3, 2)
    m = np.einsum("na,abc->nbc", np.asarray(x), t)
    reference = np.exp(-np.abs(m[:, None] - m[None, :]).sum(-1)).sum(
        1
    )  # Salimans et al., Eq. in 3.2
    np.testing.assert_allclose(layer.apply(params, x)[:, 4:], reference, rtol=1e-5)
