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
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.train import d_inputs, init_run, make_train_step


def _config(pairing, **overrides):
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
    return validate(config)


def _g_side_grads(exp, state, with_regularizer):
    """d(G's side's loss)/d(G's side's params) against the state's D: the pairing's adversarial
    term alone, or that plus the weighted regulariser."""
    real = exp.dataset.sample(jax.random.PRNGKey(1), exp.batch_size)
    z = jax.random.normal(jax.random.PRNGKey(2), (exp.batch_size, exp.generator.latent_dim))

    def loss(g_params):
        fake = apply_generator(exp.generator, g_params, z, train=True)[0]
        batch = d_inputs(exp, g_params, real, z, fake)
        discriminate = functools.partial(exp.discriminator.apply, state.d_params)
        value, _ = exp.pairing.g_loss(
            exp.objective, discriminate, batch.real, batch.fake, (), state.hparams["loss"]
        )
        if with_regularizer:
            from gan_jax.parts.regularizers import RegularizerInputs

            encode = lambda x: exp.generator.apply(g_params, x, method="encode")  # noqa: E731
            inputs = RegularizerInputs(z, fake, real, batch.real, batch.fake, None, encode)
            value = value + state.hparams["g_regularizer_weight"] * exp.g_regularizer(
                inputs, None
            )[0]
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
    batch = d_inputs(ali_exp, ali.g_params, x, jnp.zeros((8, 3)), x)
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
    moved = jax.tree.map(
        lambda a, b: float(jnp.max(jnp.abs(a - b))), new.g_params, state.g_params
    )["params"]
    assert max(jax.tree.leaves(moved["encoder"])) == 0.0
    assert max(jax.tree.leaves(moved["generator"])) > 0


def test_a_veegan_sweep_vmaps_checkpoints_and_resumes_bit_identically(tmp_path):
    """Two seeds on one vmapped axis, with G's BatchNorm and EMA: interrupted after
    one chunk and resumed, every run ends with exactly the uninterrupted run's state; the
    restored run samples G alone."""
    from gan_jax.loop.sweep import run_sweep

    config = _config(
        "veegan",
        **{"ema.enabled": True, "eval.num_samples": 64},
    )
    config.model.g.normalization = "batch"
    config.sweep = ml_collections.ConfigDict(dict(seeds=2, grid={}, runs_axis="vmap"))
    validate(config)
    reference, workdir = str(tmp_path / "reference"), str(tmp_path / "resumed")
    run_sweep(config, reference, progress=False)
    run_sweep(config, workdir, progress=False, stop_after_chunks=1)
    assert run_sweep(config, workdir, progress=False).finished
    for seed in (0, 1):
        got, want = (gan_jax.restore(os.path.join(root, "runs", f"seed={seed}"))
                     for root in (workdir, reference))
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
    ],
)
def test_bad_encoder_fields_get_one_line(pairing, overrides, message):
    with pytest.raises(ConfigError) as error:
        _config(pairing, **overrides)
    assert message in str(error.value) and "\n" not in str(error.value)
