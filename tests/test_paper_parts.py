"""Parts of PacGAN's protocol (Lin et al. 2018): maxout D, N(0, 0.02^2) init, a BatchNorm G
whose statistics are part of the run's state, and the paper configs."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, make_tiny_config

from gan_jax.loop.run import init_group_state, train_and_evaluate
from gan_jax.loop.sharding import runs_mesh
from gan_jax.parts.models.mlp import Maxout, MLPGenerator, apply_generator, dense
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.experiment import make_experiment
from gan_jax.step.train import init_run, make_generate, make_train_chunk


def test_maxout_matches_a_numpy_reference():
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 5))
    layer = Maxout(units=3, pieces=4)
    params = layer.init(jax.random.PRNGKey(1), x)
    kernel = np.asarray(params["params"]["Dense_0"]["kernel"])  # (5, 12)
    bias = np.asarray(params["params"]["Dense_0"]["bias"])
    want = (np.asarray(x) @ kernel + bias).reshape(6, 3, 4).max(axis=-1)
    np.testing.assert_allclose(layer.apply(params, x), want, rtol=1e-5, atol=1e-6)


def test_init_std_gives_normal_weights_and_zero_biases():
    layer = dense(2_000, init_std=0.02)
    params = layer.init(jax.random.PRNGKey(0), jnp.zeros((1, 50)))["params"]
    assert abs(float(jnp.std(params["kernel"])) - 0.02) < 0.0005
    assert abs(float(jnp.mean(params["kernel"]))) < 0.0005
    assert float(jnp.abs(params["bias"]).max()) == 0.0


def test_orthogonal_gain_gives_scaled_orthogonal_weights_and_zero_biases():
    """Metz et al.'s notebook init: W^T W = gain^2 I for a tall (256, 128) kernel."""
    layer = dense(128, orthogonal_gain=1.4)
    params = layer.init(jax.random.PRNGKey(0), jnp.zeros((1, 256)))["params"]
    kernel = np.asarray(params["kernel"], np.float64)
    np.testing.assert_allclose(kernel.T @ kernel, 1.4**2 * np.eye(128), atol=1e-4)
    assert float(jnp.abs(params["bias"]).max()) == 0.0


def test_orthogonal_gain_reaches_every_layer_of_g_and_d():
    config = make_tiny_config()
    config.model.g.orthogonal_gain = 1.4
    config.model.d.orthogonal_gain = 1.4
    validate(config)
    _, state = init_run(config)
    for tree in (state.g_params, state.d_params):
        for leaf_path, leaf in jax.tree_util.tree_leaves_with_path(tree):
            if "kernel" in jax.tree_util.keystr(leaf_path):
                w = np.asarray(leaf, np.float64)
                w = w if w.shape[0] >= w.shape[1] else w.T
                np.testing.assert_allclose(w.T @ w, 1.4**2 * np.eye(w.shape[1]), atol=1e-4)


def _bn_config(**overrides):
    """The tiny config with PacGAN's parts: a BatchNorm ReLU G, a maxout D, N(0, 0.02^2)."""
    config = make_tiny_config(update_order="simultaneous", **overrides)
    config.model.g.update(normalization="batch", activation="relu", init_std=0.02)
    config.model.d.update(activation="maxout", maxout_pieces=3, init_std=0.02)
    return config


def test_inference_mode_uses_the_running_statistics():
    """G's eval samples equal a hand-written forward pass with the stored running averages."""
    g = MLPGenerator(
        data_shape=(2,), latent_dim=3, hidden_sizes=(4,), activation="relu", normalization="batch"
    )
    z = jax.random.normal(jax.random.PRNGKey(0), (7, 3))
    variables = g.init(jax.random.PRNGKey(1), z)
    mean, var = jnp.arange(4.0) / 10, jnp.arange(1.0, 5.0)
    variables = {**variables, "batch_stats": {"BatchNorm_0": {"mean": mean, "var": var}}}
    p = variables["params"]
    hidden = np.asarray(z) @ np.asarray(p["Dense_0"]["kernel"])
    normed = (hidden - mean) / np.sqrt(var + 1e-5) * p["BatchNorm_0"]["scale"] + p["BatchNorm_0"][
        "bias"
    ]
    want = np.maximum(normed, 0) @ np.asarray(p["Dense_1"]["kernel"]) + p["Dense_1"]["bias"]
    got, stats = apply_generator(g, variables, z, train=False)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert stats == {}
    # Training mode normalises with the batch's own statistics instead, and returns new ones.
    trained, new_stats = apply_generator(g, variables, z, train=True)
    assert not np.allclose(trained, want)
    batch_mean = hidden.mean(0)
    np.testing.assert_allclose(
        new_stats["batch_stats"]["BatchNorm_0"]["mean"], 0.9 * mean + 0.1 * batch_mean, rtol=1e-5
    )


def test_a_training_step_updates_g_statistics_and_eval_uses_them():
    config = _bn_config()
    validate(config)
    exp, state = init_run(config)
    before = state.g_params["batch_stats"]
    state, _ = jax.jit(make_train_chunk(exp, 3))(state)
    after = state.g_params["batch_stats"]
    moved = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), before, after)
    assert min(jax.tree.leaves(moved)) > 0
    generate = make_generate(exp)
    key = jax.random.PRNGKey(5)
    inference = generate(state.g_params, key, 64)
    z = jax.random.normal(key, (64, exp.generator.latent_dim))
    np.testing.assert_allclose(
        inference, exp.generator.apply(state.g_params, z, train=False), rtol=1e-6
    )


def test_vmapped_runs_keep_separate_statistics_equal_to_their_single_runs():
    configs = [_bn_config(seed=s) for s in (0, 1)]
    exp = make_experiment(configs[0])
    stacked = init_group_state(configs, runs_mesh(1))
    stacked, _ = jax.jit(jax.vmap(make_train_chunk(exp, 4)))(stacked)
    stats = stacked.g_params["batch_stats"]
    for i, config in enumerate(configs):
        _, single = init_run(config)
        single, _ = jax.jit(make_train_chunk(exp, 4))(single)
        jax.tree.map(
            lambda a, b, i=i: np.testing.assert_allclose(a[i], b, rtol=1e-4, atol=1e-6),
            stats,
            single.g_params["batch_stats"],
        )
    a, b = (jax.tree.map(lambda x, i=i: x[i], stats) for i in (0, 1))
    assert not np.allclose(a["BatchNorm_0"]["mean"], b["BatchNorm_0"]["mean"])


def test_batch_statistics_resume_bit_identically(tmp_path):
    config = _bn_config()
    whole = train_and_evaluate(config, str(tmp_path / "whole"), progress=False)
    workdir = str(tmp_path / "resumed")
    train_and_evaluate(config, workdir, stop_after_chunks=1, progress=False)
    resumed = train_and_evaluate(config, workdir, progress=False)
    jax.tree.map(np.testing.assert_array_equal, resumed, whole)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"model.g.normalization": "layer"}, r"model.g.normalization='layer' is invalid"),
        ({"model.d.activation": "maxoot"}, r"model.d.activation='maxoot' is invalid: .*'maxout'"),
        ({"model.g.activation": "maxout"}, r"model.g.activation='maxout' is invalid"),
        ({"model.d.maxout_pieces": 0}, r"model.d.maxout_pieces=0 is invalid"),
        ({"model.g.init_std": -0.1}, r"model.g.init_std=-0.1 is invalid"),
        ({"model.g.orthogonal_gain": 1.4}, r"model.g.orthogonal_gain=1.4 is invalid: .*set one"),
        (
            {"model.d.init_std": None, "model.d.orthogonal_gain": 0.0},
            r"model.d.orthogonal_gain=0.0 is invalid",
        ),
        ({"data.num_points": 0}, r"data.num_points=0 is invalid"),
        ({"data.radius": float("inf")}, r"data.radius=inf is invalid"),
    ],
)
def test_new_fields_get_one_line(changes, message):
    config = _bn_config()
    for field, value in changes.items():
        *parents, name = field.split(".")
        node = config
        for part in parents:
            node = node[part]
        with node.ignore_type():
            node[name] = value
    with pytest.raises(ConfigError, match=message) as error:
        validate(config)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("module, pack", [("pacgan_ring", "1"), ("pacgan_grid", "4")])
def test_the_paper_configs_state_pacgans_protocol(module, pack):
    import importlib

    config = importlib.import_module(f"configs.paper.{module}").get_config(pack)
    validate(config)
    assert config.batch_size == 100 * int(pack) and config.model.d.pack == int(pack)
    assert config.num_steps == 400_000 and config.data.num_points == 100_000
    assert config.eval.num_samples == 2_500 and config.update_order == "simultaneous"
    exp = make_experiment(config)
    if module == "pacgan_ring":
        np.testing.assert_allclose(np.linalg.norm(exp.dataset.centers, axis=1), 1.0, rtol=1e-6)
        assert exp.dataset.std == 0.01
    g = exp.generator.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    assert [k for k in g["params"] if k.startswith("Dense")] == [f"Dense_{i}" for i in range(5)]
    assert "bias" not in g["params"]["Dense_0"] and "bias" in g["params"]["Dense_4"]


_GROUP_INIT = """
import sys
import jax
import numpy as np
from configs import literature
from gan_jax.loop import sharding
from gan_jax.loop.run import init_group_state
from gan_jax.step.train import init_run

configs = []
for seed in range(6):
    config = literature.get_config("gan_orthogonal-ring")
    config.seed = seed
    configs.append(config)
stacked = jax.block_until_ready(init_group_state(configs, sharding.runs_mesh(6)))
for i, config in enumerate(configs):
    _, alone = init_run(config)
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a[i], b), stacked.g_params,
                 alone.g_params)
print("ok")
"""


def test_a_group_of_orthogonal_inits_finishes_and_equals_each_runs_own(tmp_path):
    """Six runs with the notebook's orthogonal init (LAPACK QRs) initialised as one group: a
    vmapped init hung for ever in XLA:CPU (every thread idle) from 5 runs on; each run's
    parameters are those it gets alone. In a subprocess, so a hang fails the test, not CI."""
    script = tmp_path / "group_init.py"
    script.write_text(_GROUP_INIT)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": ROOT, "XLA_FLAGS": ""},  # one CPU device, as a user's
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
