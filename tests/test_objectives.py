import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import objectives

D_REAL = np.array([2.0, -1.0, 0.5], np.float32)
D_FAKE = np.array([-3.0, 0.0, 1.5], np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_cross_entropy_d_loss_matches_hand_computation():
    expected = -np.mean(np.log(_sigmoid(D_REAL))) - np.mean(np.log(1 - _sigmoid(D_FAKE)))
    for name in ("minimax", "nonsaturating"):
        loss, aux = jax.jit(objectives.get_objective(name).d_loss)(D_REAL, D_FAKE, (), {})
        np.testing.assert_allclose(loss, expected, rtol=1e-6)
        np.testing.assert_allclose(aux["d/real_accuracy"], 2 / 3, rtol=1e-6)
        np.testing.assert_allclose(aux["d/fake_accuracy"], 1 / 3, rtol=1e-6)
        np.testing.assert_allclose(aux["d/real_prob"], np.mean(_sigmoid(D_REAL)), rtol=1e-6)


def test_minimax_g_loss_is_log_one_minus_d():
    loss, _ = jax.jit(objectives.get_objective("minimax").g_loss)(D_FAKE, (), {})
    np.testing.assert_allclose(loss, np.mean(np.log(1 - _sigmoid(D_FAKE))), rtol=1e-6)


def test_nonsaturating_g_loss_is_minus_log_d():
    loss, _ = jax.jit(objectives.get_objective("nonsaturating").g_loss)(D_FAKE, (), {})
    np.testing.assert_allclose(loss, -np.mean(np.log(_sigmoid(D_FAKE))), rtol=1e-6)


def test_minimax_g_gradient_saturates_where_nonsaturating_does_not():
    # D confidently rejects the fake (logit -10): d/dlogit of log(1 - D) is -sigmoid(-10)·... ~ 0.
    confident = jnp.array([-10.0])
    g_minimax = jax.grad(lambda t: objectives.get_objective("minimax").g_loss(t, (), {})[0])
    g_ns = jax.grad(lambda t: objectives.get_objective("nonsaturating").g_loss(t, (), {})[0])
    assert abs(float(g_minimax(confident)[0])) < 1e-4
    assert abs(float(g_ns(confident)[0])) > 0.99


@pytest.mark.parametrize("name", sorted(objectives.OBJECTIVES))
def test_objective_contract(name):
    """Every registered objective: finite losses under jit, both players get a gradient."""
    objective = objectives.get_objective(name)
    state, hparams = objective.init_state(), dict(objective.hparams)
    d_grad = jax.jit(jax.grad(lambda r, f: objective.d_loss(r, f, state, hparams)[0], (0, 1)))
    g_grad = jax.jit(jax.grad(lambda f: objective.g_loss(f, state, hparams)[0]))
    for grad in (*d_grad(D_REAL, D_FAKE), g_grad(D_FAKE)):
        assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    new_state = objective.update_state(
        state, objective.d_loss(D_REAL, D_FAKE, state, hparams)[1], hparams
    )
    assert jax.tree.structure(new_state) == jax.tree.structure(state)


def test_unknown_objective_names_the_choices():
    with pytest.raises(ValueError, match="objective='wgan-typo' is unknown; choose one of"):
        objectives.get_objective("wgan-typo")
