"""A third network on G's side (gan_jax/parts/models/encoder.py, gan_jax/parts/pairings.py):
ALI / BiGAN and VEEGAN's D inputs, which losses reach the encoder, a vmapped sweep with BatchNorm,
EMA and unrolling that checkpoints and resumes bit-identically, and one-line config errors."""

import functools
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import make_tiny_config

import gan_jax
from gan_jax.parts.models.mlp import apply_generator
from gan_jax.parts.regularizers import RegularizerInputs
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.train import d_inputs, init_run, make_train_step


def _config(pairing, validate_it=True, **overrides):
    config = make_tiny_config(**{"batch_size": 8, "model.g.latent_dim": 3})
    config.pairing = pairing
    config.model.encoder = ml_collections.ConfigDict(
        dict(name="mlp", hidden_sizes=(8,), activation="tanh")
    )
    if pairing == "veegan":
        config.g_regularizer.name = "reconstruction"
        config.g_regularizer.weight = 1.0
    for field, value in overrides.items():
        node = config
        *parents, leaf = field.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return validate(config) if validate_it else config


def _g_side_grads(exp, state, with_regularizer):
    """d(G's side's loss)/d(G's side's params) against the state's D: the pairing's adversarial
    term alone, or that plus the weighted regulariser."""
    real = exp.dataset.sample(jax.random.PRNGKey(1), exp.batch_size)
    z = jax.random.normal(jax.random.PRNGKey(2), (exp.batch_size, exp.generator.latent_dim))

    def loss(g_params):
        fake = apply_generator(exp.generator, g_params, z, train=True)[0]
        batch = d_inputs(exp, g_params, real, z, fake, jax.random.PRNGKey(3))
        discriminate = functools.partial(exp.discriminator.apply, state.d_params)
        value, _ = exp.pairing.g_loss(
            exp.objective, discriminate, batch.real, batch.fake, (), state.hparams["loss"]
        )
        if with_regularizer:
            encode = lambda x: exp.generator.apply(g_params, x, method="encode")  # noqa: E731
            inputs = RegularizerInputs(z, fake, real, batch.real, batch.fake, None, encode, None)
            value = (
                value + state.hparams["g_regularizer_weight"] * exp.g_regularizer(inputs, None)[0]
            )
        return value

    return jax.jit(jax.grad(loss))(state.g_params)["params"]


def _norm(tree):
    return float(sum(jnp.sum(jnp.abs(x)) for x in jax.tree.leaves(tree)))


def test_d_judges_pairs_and_the_right_losses_reach_the_encoder():
    ali_exp, ali = init_run(_config("ali"))
    # D's first layer takes (x, z): 2 + 3 inputs; G's side holds G and E under one tree.
    assert ali.d_params["params"]["Dense_0"]["kernel"].shape == (2 + 3, 16)
    assert set(ali.g_params["params"]) == {"generator", "encoder"}
    x = jnp.ones((8, 2))
    encode = lambda v: ali_exp.generator.apply(ali.g_params, v, method="encode")  # noqa: E731
    batch = d_inputs(ali_exp, ali.g_params, x, jnp.zeros((8, 3)), x, jax.random.PRNGKey(0))
    assert batch.real.shape == batch.fake.shape == (8, 5)
    np.testing.assert_array_equal(batch.real[:, 2:], encode(x))
    np.testing.assert_array_equal(batch.fake[:, 2:], 0.0)
    # ALI: E learns from the adversarial term.
    grads = _g_side_grads(ali_exp, ali, with_regularizer=False)
    assert _norm(grads["encoder"]) > 0 and _norm(grads["generator"]) > 0

    veegan_exp, veegan = init_run(_config("veegan"))
    # VEEGAN: F gets exactly no gradient from the adversarial term, only from the reconstruction.
    adversarial = _g_side_grads(veegan_exp, veegan, with_regularizer=False)
    assert _norm(adversarial["encoder"]) == 0.0 and _norm(adversarial["generator"]) > 0
    total = _g_side_grads(veegan_exp, veegan, with_regularizer=True)
    assert _norm(total["encoder"]) > 0


def _stochastic_veegan(**overrides):
    config = _config("veegan", validate_it=False, **overrides)
    config.model.encoder.name = "gaussian_mlp"
    config.g_regularizer.name = "reconstruction_nll"
    return validate(config)


def test_a_gaussian_encoder_is_the_normal_its_loc_and_scale_say():
    """GaussianMLPEncoder against numpy: its code is loc, a draw is loc + scale * noise, and
    log_prob is the diagonal Normal's log density summed over the latent dimensions."""
    from gan_jax.parts.models.encoder import GaussianMLPEncoder

    module = GaussianMLPEncoder(latent_dim=3, hidden_sizes=(8,))
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    params = module.init(jax.random.PRNGKey(1), x)
    loc, scale = (
        np.asarray(a, np.float64) for a in module.apply(params, x, method="loc_and_scale")
    )
    assert loc.shape == scale.shape == (5, 3) and np.all(scale > 1e-3)
    np.testing.assert_array_equal(module.apply(params, x), loc.astype(np.float32))
    noise = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        module.apply(params, x, noise, method="sample"), loc + scale * noise, rtol=1e-5
    )
    z = np.random.default_rng(1).normal(size=(5, 3))
    want = np.sum(-0.5 * ((z - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi), -1)
    np.testing.assert_allclose(
        module.apply(params, x, z.astype(np.float32), method="log_prob"), want, rtol=1e-5
    )


def test_a_stochastic_reconstructor_feeds_d_draws_and_trains_on_its_likelihood():
    """VEEGAN with F a Normal (Srivastava et al. 2017, Alg. 1, line 5): D's real pairs carry
    draws z ~ F(x) (another key, another draw; their mean over many keys is F's loc), the
    regulariser is -mean log F(z | G(z)) (numpy), and a train step moves F's scale."""
    from gan_jax.parts.models.encoder import code_log_prob_fn, encode_fn

    exp, state = init_run(_stochastic_veegan())
    x = exp.dataset.sample(jax.random.PRNGKey(0), 8)
    z = jax.random.normal(jax.random.PRNGKey(1), (8, 3))
    codes = jax.vmap(lambda key: d_inputs(exp, state.g_params, x, z, x, key).real[:, 2:])(
        jax.random.split(jax.random.PRNGKey(2), 4000)
    )
    assert not np.allclose(codes[0], codes[1])
    loc = encode_fn(exp.generator, state.g_params)(x)
    np.testing.assert_allclose(codes.mean(0), loc, atol=0.05)
    # a deterministic encoder's codes are its code, whatever the key (ALI, VEEGAN with l2)
    ali_exp, ali = init_run(_config("ali"))
    first, second = (
        d_inputs(ali_exp, ali.g_params, x, z, x, jax.random.PRNGKey(k)).real for k in (0, 1)
    )
    np.testing.assert_array_equal(first, second)

    fake = apply_generator(exp.generator, state.g_params, z, train=True)[0]
    log_prob = code_log_prob_fn(exp.generator, state.g_params)
    inputs = RegularizerInputs(z, fake, x, None, None, None, None, log_prob)
    value, _ = exp.g_regularizer(inputs, None)
    loc, scale = (
        np.asarray(a, np.float64)
        for a in exp.generator.apply(
            state.g_params, fake, method=lambda m, v: m.encoder.loc_and_scale(v)
        )
    )
    want = -np.mean(
        np.sum(
            -0.5 * ((np.asarray(z) - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi),
            -1,
        )
    )
    np.testing.assert_allclose(value, want, rtol=1e-5)

    new, metrics = jax.jit(make_train_step(exp))(state, jax.random.PRNGKey(0))
    assert np.isfinite(metrics["g/regularizer"]) and int(new.diverged_at) == -1
    moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), new.g_params, state.g_params)
    assert max(jax.tree.leaves(moved["params"]["encoder"])) > 0


def test_veegans_reconstructor_moves_only_with_the_reconstruction_even_when_unrolled():
    """A full train step, second-order unrolled (D's updates on real pairs are differentiated)
    with WGAN-GP's penalty on pairs: with the reconstruction weighted 0, F's Adam update is
    exactly 0 while G moves."""
    overrides = {
        "unroll.steps": 1,
        "penalty.name": "gp",
        "penalty.weight": 1.0,
        "g_regularizer.weight": 0.0,
    }
    exp, state = init_run(_config("veegan", **overrides))
    new, metrics = jax.jit(make_train_step(exp))(state, jax.random.PRNGKey(0))
    assert np.isfinite(metrics["g/loss"]) and int(new.diverged_at) == -1
    moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), new.g_params, state.g_params)[
        "params"
    ]
    assert max(jax.tree.leaves(moved["encoder"])) == 0.0
    assert max(jax.tree.leaves(moved["generator"])) > 0


def test_a_veegan_sweep_vmaps_checkpoints_and_resumes_bit_identically(tmp_path):
    """Two seeds on one vmapped axis, with G's BatchNorm and EMA and the stochastic F (whose
    draws of real codes come from the step's key, so they too must resume exactly; a
    deterministic F is the same code path with draw = code): interrupted after one chunk and
    resumed, every run ends with exactly the uninterrupted run's state; the restored run
    samples G alone."""
    from gan_jax.loop.sweep import run_sweep

    config = _stochastic_veegan(**{"ema.enabled": True, "eval.num_samples": 64})
    config.model.g.normalization = "batch"
    config.sweep = ml_collections.ConfigDict(dict(seeds=2, grid={}, runs_axis="vmap"))
    validate(config)
    reference, workdir = str(tmp_path / "reference"), str(tmp_path / "resumed")
    run_sweep(config, reference, progress=False)
    run_sweep(config, workdir, progress=False, stop_after_chunks=1)
    assert run_sweep(config, workdir, progress=False).finished
    for seed in (0, 1):
        got, want = (
            gan_jax.restore(os.path.join(root, "runs", f"seed={seed}"))
            for root in (workdir, reference)
        )
        assert got.step == want.step == 20
        jax.tree.map(np.testing.assert_array_equal, got.state, want.state)
        assert set(got.state.g_params["params"]) == {"generator", "encoder"}
        assert got.sample(4, seed=0).shape == (4, 2)


@pytest.mark.parametrize(
    "pairing, overrides, message",
    [
        (
            "ali",
            {"model.encoder": ml_collections.ConfigDict(dict(name="none"))},
            "pairing='ali' is invalid: needs G's helper",
        ),
        ("ali", {"objective": "lsgan"}, "pairing='ali' is invalid: E's loss swaps D's labels"),
        ("veegan", {"g_regularizer.name": "none"}, "g_regularizer.name='none' is invalid"),
        ("none", {}, "model.encoder.name='mlp' is invalid: nothing trains this encoder"),
        ("ali", {"model.encoder.depth": 2}, "model.encoder.depth is not a field"),
        ("ali", {"model.encoder.hidden_sizes": (0,)}, "model.encoder.hidden_sizes=(0,)"),
        # E's output size is G's latent size, set by the code: not a config field.
        ("ali", {"model.encoder.latent_dim": 3}, "model.encoder.latent_dim is not a field"),
        ("ali", {"consensus.enabled": True}, "consensus.enabled=True is invalid"),
        ("gan", {}, "pairing='gan' is invalid: choose one of ['ali', 'none', 'veegan']"),
        (
            "veegan",
            {"g_regularizer.name": "reconstruction_nll"},
            "g_regularizer.name='reconstruction_nll' is invalid: needs a helper network with a "
            "density",
        ),
        ("veegan", {"model.encoder.min_scale": 0.1}, "model.encoder.min_scale is not a field"),
        (
            "veegan",
            {"model.encoder.name": "gaussian_mlp", "model.encoder.min_scale": 0.0},
            "model.encoder.min_scale=0.0 is invalid: must be a finite number > 0",
        ),
    ],
)
def test_bad_encoder_fields_get_one_line(pairing, overrides, message):
    with pytest.raises(ConfigError) as error:
        _config(pairing, **overrides)
    assert message in str(error.value) and "\n" not in str(error.value)
