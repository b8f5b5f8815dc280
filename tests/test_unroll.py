"""The unrolled D (Metz et al. 2016) against an independent Python-loop implementation."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import make_tiny_config

from gan_jax.step.train import (
    Batch,
    d_state,
    init_run,
    make_generate,
    make_train_step,
    make_unroll,
)

K = 3


def _setup(**overrides):
    # A fast D (lr 0.05) makes the unrolled D move enough for second-order terms to matter.
    config = make_tiny_config(**{"unroll.steps": K, "optim.d.learning_rate": 0.05, **overrides})
    exp, state = init_run(config)
    real = exp.dataset.sample(jax.random.PRNGKey(1), config.batch_size)
    z = jax.random.normal(jax.random.PRNGKey(2), (config.batch_size, exp.generator.latent_dim))
    return config, exp, state, real, z


def _manual_unroll(exp, d_params, d_opt_state, real, fake, k):
    """k optax steps on the D loss, written out as a Python loop (no scan)."""
    D, objective = exp.discriminator, exp.objective

    def d_loss(p):
        return objective.d_loss(D.apply(p, real), D.apply(p, fake), (), {})[0]

    for _ in range(k):
        updates, d_opt_state = exp.d_optimizer.update(
            jax.grad(d_loss)(d_params), d_opt_state, d_params
        )
        d_params = optax.apply_updates(d_params, updates)
    return d_params


def _scanned_g_grad(exp, state, real, z):
    """G's gradient through `make_unroll` (the implementation under test)."""
    unroll = make_unroll(exp)

    def unroll_fn(g_params, fake):
        key = jax.random.PRNGKey(3)
        return unroll(d_state(state), Batch(real, fake), g_params, key, state.hparams).params

    return jax.jit(jax.grad(_g_loss_through(exp, unroll_fn, state, real, z)))(state.g_params)


def _g_loss_through(exp, unroll_fn, state, real, z):
    """G's loss against D unrolled by `unroll_fn(g_params, fake)`, as a function of g_params."""

    def loss(g_params):
        fake = exp.generator.apply(g_params, z)
        d_params = unroll_fn(g_params, fake)
        return exp.objective.g_loss(exp.discriminator.apply(d_params, fake), (), {})[0]

    return loss


def test_unrolled_d_equals_k_manual_optax_steps():
    _, exp, state, real, z = _setup()
    fake = exp.generator.apply(state.g_params, z)
    unroll = jax.jit(make_unroll(exp))
    got = unroll(
        d_state(state), Batch(real, fake), state.g_params, jax.random.PRNGKey(3), state.hparams
    ).params
    want = _manual_unroll(exp, state.d_params, state.d_opt_state, real, fake, K)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6), got, want)
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: jnp.max(jnp.abs(a - b)), got, state.d_params))
    assert max(moved) > 0


@pytest.mark.parametrize("second_order", [True, False])
def test_g_gradient_matches_python_loop_implementation(second_order):
    _, exp, state, real, z = _setup(**{"unroll.second_order": second_order})

    def manual(g_params, fake):
        if not second_order:
            fake = jax.lax.stop_gradient(fake)
        return _manual_unroll(exp, state.d_params, state.d_opt_state, real, fake, K)

    got = _scanned_g_grad(exp, state, real, z)
    want = jax.jit(jax.grad(_g_loss_through(exp, manual, state, real, z)))(state.g_params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7), got, want)


def test_second_and_first_order_gradients_differ():
    grads = {}
    for second_order in (True, False):
        _, exp, state, real, z = _setup(**{"unroll.second_order": second_order})
        grads[second_order] = _scanned_g_grad(exp, state, real, z)
    diff = optax.tree.norm(jax.tree.map(jnp.subtract, grads[True], grads[False]))
    assert diff > 1e-3 * optax.tree.norm(grads[False])


def test_first_order_equals_gradient_against_a_constant_unrolled_d():
    _, exp, state, real, z = _setup(**{"unroll.second_order": False})
    fake = exp.generator.apply(state.g_params, z)
    frozen = _manual_unroll(exp, state.d_params, state.d_opt_state, real, fake, K)
    got = _scanned_g_grad(exp, state, real, z)
    want = jax.grad(_g_loss_through(exp, lambda g, f: frozen, state, real, z))(state.g_params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7), got, want)


def test_train_step_g_update_uses_the_unrolled_d_and_keeps_only_the_first_d_update():
    """One simultaneous step == manual: D takes one Adam step, G one Adam step through K."""
    config, exp, state, _, _ = _setup(update_order="simultaneous")
    key = jax.random.PRNGKey(7)
    new_state, _ = jax.jit(make_train_step(exp))(state, key)

    real_key, z_key, _, _ = jax.random.split(key, 4)
    real = exp.dataset.sample(real_key, config.batch_size)
    z = jax.random.normal(z_key, (config.batch_size, exp.generator.latent_dim))
    fake = exp.generator.apply(state.g_params, z)
    want_d = _manual_unroll(exp, state.d_params, state.d_opt_state, real, fake, 1)

    def manual(g_params, fake):
        return _manual_unroll(exp, state.d_params, state.d_opt_state, real, fake, K)

    g_grad = jax.grad(_g_loss_through(exp, manual, state, real, z))(state.g_params)
    updates, _ = exp.g_optimizer.update(g_grad, state.g_opt_state, state.g_params)
    want_g = optax.apply_updates(state.g_params, updates)
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    jax.tree.map(close, new_state.d_params, want_d)
    jax.tree.map(close, new_state.g_params, want_g)


def test_fresh_batches_change_the_unrolled_d():
    _, exp_same, state, real, z = _setup()
    _, exp_fresh, _, _, _ = _setup(**{"unroll.fresh_batches": True})
    fake = exp_same.generator.apply(state.g_params, z)
    args = (d_state(state), Batch(real, fake), state.g_params, jax.random.PRNGKey(3), state.hparams)
    same = make_unroll(exp_same)(*args).params
    fresh = make_unroll(exp_fresh)(*args).params
    assert optax.tree.norm(jax.tree.map(jnp.subtract, same, fresh)) > 0


def test_remat_gives_the_same_gradient():
    grads = []
    for remat in (False, True):
        _, exp, state, real, z = _setup(**{"unroll.remat": remat})
        grads.append(_scanned_g_grad(exp, state, real, z))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7), *grads)


def _count_equations(jaxpr) -> int:
    """Equations in a jaxpr and every jaxpr nested in it (scan bodies, custom rules, ...)."""
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, tuple | list) else (param,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    total += _count_equations(inner)
    return total


def test_program_size_does_not_grow_with_k():
    """The unroll is one scan: the traced step has the same number of equations for any k > 0."""
    sizes = []
    for k in (2, 5, 20):
        config = make_tiny_config(**{"unroll.steps": k})
        exp, state = init_run(config)
        jaxpr = jax.make_jaxpr(make_train_step(exp))(state, jax.random.PRNGKey(1))
        sizes.append(_count_equations(jaxpr.jaxpr))
    assert sizes[0] == sizes[1] == sizes[2]


def test_generate_uses_standard_normal_latents():
    config = make_tiny_config()
    exp, state = init_run(config)
    out = make_generate(exp)(state.g_params, jax.random.PRNGKey(5), 7)
    z = jax.random.normal(jax.random.PRNGKey(5), (7, 8))
    np.testing.assert_allclose(out, exp.generator.apply(state.g_params, z), rtol=1e-6)
