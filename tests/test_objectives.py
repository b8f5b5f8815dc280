import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.parts import objectives

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


def _outputs(kind, values, scale=1.0):
    """D outputs of the kind an objective consumes, built from `values`."""
    if kind == "logit":
        return jnp.asarray(values)
    energy = scale * jnp.abs(jnp.asarray(values)) + 0.1
    codes = jnp.stack([values, values**2, jnp.ones_like(values)], axis=-1)
    return {"l1": energy, "l2": energy**2, "codes": codes}


@pytest.mark.parametrize("name", sorted(objectives.OBJECTIVES))
def test_objective_contract(name):
    """Every registered objective: finite losses under jit, both players get a gradient, the
    objective state keeps its structure."""
    objective = objectives.get_objective(name)
    hparams = dict(objective.hparams)
    real, fake = jnp.asarray(D_REAL), jnp.asarray(D_FAKE)
    # One state update first, as in training (BEGAN's k_0 = 0 ignores fakes until k moves;
    # fakes reconstruct better than reals here, so k grows).
    state = objective.init_state()
    _, aux = objective.d_loss(
        _outputs(objective.d_output, real), _outputs(objective.d_output, fake, 0.2), state, hparams
    )
    state = objective.update_state(state, aux, hparams)

    def d_loss(r, f):
        return objective.d_loss(
            _outputs(objective.d_output, r), _outputs(objective.d_output, f, 0.2), state, hparams
        )[0]

    def g_loss(f):
        return objective.g_loss(_outputs(objective.d_output, f, 0.2), state, hparams)[0]

    d_grads = jax.jit(jax.grad(d_loss, (0, 1)))(real, fake)
    g_grad = jax.jit(jax.grad(g_loss))(fake)
    for grad in (*d_grads, g_grad):
        assert np.all(np.isfinite(grad)) and np.any(grad != 0)
    _, aux = objective.d_loss(
        _outputs(objective.d_output, real), _outputs(objective.d_output, fake, 0.2), state, hparams
    )
    new_state = objective.update_state(state, aux, hparams)
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    for key in ("d/real_output", "d/fake_output", "d/real_accuracy", "d/fake_accuracy"):
        assert key in aux, key


def test_unknown_objective_names_the_choices():
    with pytest.raises(ValueError, match="objective='wgan-typo' is unknown; choose one of"):
        objectives.get_objective("wgan-typo")
