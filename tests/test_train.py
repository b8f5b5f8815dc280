import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import make_tiny_config

from gan_jax.step.train import (
    GANState,
    freeze_if_diverged,
    init_run,
    make_train_chunk,
    make_train_step,
)


def _state(config):
    return init_run(config)


def _assert_trees_equal(a, b, rtol=0.0, atol=0.0):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=rtol, atol=atol), a, b)


def test_scanned_chunk_equals_python_loop_over_jitted_step():
    config = make_tiny_config(**{"unroll.steps": 2})
    exp, state = _state(config)
    chunk_state, chunk_metrics = jax.jit(make_train_chunk(exp, 6))(state)
    step = jax.jit(make_train_step(exp))
    train_key = jax.random.split(state.rng)[0]
    loop_losses = []
    for t in range(6):
        state, metrics = step(state, jax.random.fold_in(train_key, t))
        loop_losses.append(metrics["g/loss"])
    _assert_trees_equal(chunk_state, state, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(chunk_metrics["g/loss"], loop_losses, rtol=1e-5)
    assert int(chunk_state.step) == 6


def test_chunk_boundaries_do_not_change_the_run():
    config = make_tiny_config()
    exp, state = _state(config)
    one, _ = jax.jit(make_train_chunk(exp, 8))(state)
    half = jax.jit(make_train_chunk(exp, 4))
    two, _ = half(half(state)[0])
    _assert_trees_equal(one, two, rtol=1e-6, atol=1e-7)


def test_data_set_as_a_jit_argument_equals_the_closed_over_one():
    exp, state = _state(make_tiny_config())
    chunk = jax.jit(make_train_chunk(exp, 4))
    closed, _ = chunk(state)
    passed, _ = chunk(state, exp.dataset)
    _assert_trees_equal(closed, passed)

    def main_signature(*args):
        text = jax.jit(make_train_chunk(exp, 2)).lower(*args).as_text()
        return next(line for line in text.splitlines() if "func.func public @main" in line)

    # The ring's 8 x 2 centers are an input of the program, not a constant inside it.
    assert "tensor<8x2xf32>" in main_signature(state, exp.dataset)
    assert "tensor<8x2xf32>" not in main_signature(state)


def test_step_metrics_cover_losses_outputs_and_gradient_norms():
    config = make_tiny_config()
    exp, state = _state(config)
    _, metrics = jax.jit(make_train_step(exp))(state, jax.random.PRNGKey(0))
    for name in (
        "d/loss",
        "g/loss",
        "d/real_output",
        "d/fake_output",
        "d/grad_norm",
        "g/grad_norm",
    ):
        assert np.isfinite(metrics[name]), name
    assert metrics["d/grad_norm"] > 0 and metrics["g/grad_norm"] > 0


@pytest.mark.parametrize("n_d_steps", [1, 3])
def test_n_d_steps_count_d_optimizer_updates(n_d_steps):
    config = make_tiny_config(n_d_steps=n_d_steps)
    exp, state = _state(config)
    new_state, _ = jax.jit(make_train_step(exp))(state, jax.random.PRNGKey(0))
    # optax's Adam counts its updates; G always takes exactly one.
    d_count = new_state.d_opt_state.inner_state[0].count
    g_count = new_state.g_opt_state.inner_state[0].count
    assert int(d_count) == n_d_steps and int(g_count) == 1


def test_alternating_and_simultaneous_differ_only_in_g():
    states = {}
    for order in ("alternating", "simultaneous"):
        exp, state = _state(make_tiny_config(update_order=order))
        states[order], _ = jax.jit(make_train_step(exp))(state, jax.random.PRNGKey(0))
    _assert_trees_equal(states["alternating"].d_params, states["simultaneous"].d_params)
    diff = jax.tree.leaves(
        jax.tree.map(
            lambda a, b: jnp.max(jnp.abs(a - b)),
            states["alternating"].g_params,
            states["simultaneous"].g_params,
        )
    )
    assert max(diff) > 0


def test_learning_rate_lives_in_state():
    config = make_tiny_config()
    config.optim.d.learning_rate = 3e-3
    _, state = _state(config)
    np.testing.assert_allclose(state.d_opt_state.hyperparams["learning_rate"], 3e-3)


def _toy_state(value, diverged_at=-1, step=5) -> GANState:
    return GANState(
        step=jnp.int32(step),
        rng=jax.random.PRNGKey(0),
        g_params={"w": jnp.full(3, value)},
        d_params={"w": jnp.ones(2)},
        g_opt_state=(),
        d_opt_state=(),
        objective_state=(),
        hparams={},
        diverged_at=jnp.int32(diverged_at),
    )


def test_a_non_finite_update_freezes_the_run_and_records_the_step():
    old, bad = _toy_state(1.0), _toy_state(jnp.nan, step=6)
    frozen = freeze_if_diverged(old, bad, {"g/loss": jnp.float32(0.0)})
    np.testing.assert_array_equal(frozen.g_params["w"], 1.0)
    assert int(frozen.diverged_at) == 5 and int(frozen.step) == 6
    # a NaN loss alone also freezes
    frozen = freeze_if_diverged(old, _toy_state(2.0, step=6), {"g/loss": jnp.float32(jnp.inf)})
    np.testing.assert_array_equal(frozen.g_params["w"], 1.0)
    # once diverged, finite updates are ignored too
    later = freeze_if_diverged(_toy_state(1.0, diverged_at=5), _toy_state(2.0, step=6), {})
    np.testing.assert_array_equal(later.g_params["w"], 1.0)
    assert int(later.diverged_at) == 5
    # a finite update of a healthy run goes through
    fine = freeze_if_diverged(old, _toy_state(2.0, step=6), {})
    np.testing.assert_array_equal(fine.g_params["w"], 2.0)
    assert int(fine.diverged_at) == -1


def test_exploding_learning_rate_diverges_and_is_frozen():
    config = make_tiny_config()
    config.optim.g = config.optim.g.copy_and_resolve_references()
    config.optim.d.name = "sgd"
    config.optim.d.learning_rate = 1e38
    config.optim.d.momentum = 0.0
    exp, state = _state(config)
    final, metrics = jax.jit(make_train_chunk(exp, 10))(state)
    assert 0 <= int(final.diverged_at) < 10
    for leaf in jax.tree.leaves((final.g_params, final.d_params)):
        assert np.all(np.isfinite(leaf))
