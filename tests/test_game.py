"""The game view: Dirac-GAN against its closed form (Mescheder et al. 2018, Sec. 2), the fixes
for oscillation, Arnoldi vs dense eig, and the rotation and loss-swing metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import dirac
from gan_jax.metrics.oscillation import loss_swing
from gan_jax.step import game, train
from gan_jax.step.config import ConfigError, set_field, validate
from tests.conftest import make_tiny_config


def _dirac(**changes):
    config = dirac.get_config()
    for field, value in changes.items():
        set_field(config, field, value)
    validate(config)
    return train.init_run(config)


def _point(state, theta, psi):
    return state.replace(
        g_params={"params": {"theta": jnp.array([theta])}},
        d_params={"params": {"psi": jnp.array([psi])}},
    )


def _theta_psi(state):
    return float(state.g_params["params"]["theta"][0]), float(state.d_params["params"]["psi"][0])


def _sorted(eigenvalues):
    eigenvalues = np.asarray(eigenvalues, np.complex128)
    return eigenvalues[np.lexsort((eigenvalues.imag, eigenvalues.real))]


# f'(0) of the GAN loss f(t) = -log(1 + exp(-t)) is 1/2: the closed forms below are Mescheder et
# al. 2018, Lemma 2.2 (unregularised: +-i f'(0)), Sec. 4.1 (R1: -gamma/2 +- sqrt(gamma^2/4 -
# f'(0)^2) for the dynamics -v) and Mescheder et al. 2017 (consensus adds gamma J^T J).
@pytest.mark.parametrize("objective", ["minimax", "nonsaturating"])
def test_dirac_jacobian_at_equilibrium_is_purely_imaginary(objective):
    exp, state = _dirac(objective=objective)
    jacobian = game.game_jacobian(exp, _point(state, 0.0, 0.0), jax.random.PRNGKey(1))
    np.testing.assert_allclose(jacobian, [[0.0, -0.5], [0.5, 0.0]], atol=1e-6)
    eigenvalues = np.linalg.eigvals(np.asarray(jacobian))
    np.testing.assert_allclose(_sorted(eigenvalues), [-0.5j, 0.5j], atol=1e-6)


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.0])
def test_dirac_jacobian_with_r1_matches_the_closed_form(gamma):
    exp, state = _dirac(**{"penalty.name": "r1", "penalty.weight": gamma})
    jacobian = game.game_jacobian(exp, _point(state, 0.0, 0.0), jax.random.PRNGKey(1))
    eigenvalues = np.linalg.eigvals(np.asarray(jacobian))
    root = np.sqrt(complex(gamma**2 / 4 - 0.25))
    np.testing.assert_allclose(
        _sorted(eigenvalues), _sorted([gamma / 2 - root, gamma / 2 + root]), atol=1e-6
    )


def test_consensus_adds_gamma_jt_j():
    gamma = 0.7
    exp, state = _dirac()
    j = np.array([[0.0, -0.5], [0.5, 0.0]])
    expected = j + gamma * j.T @ j  # Jacobian of v + gamma grad(|v|^2 / 2) where v = 0
    field = game.make_game_field(exp)
    consensus = game.make_consensus_grads(exp)
    real = jnp.zeros((4, 1))
    z = jnp.zeros((4, 1))

    def regularised(w):
        s = _point(state, w[0], w[1]).replace(hparams={**state.hparams, "consensus_weight": gamma})
        v = field(s.g_params, s.d_params, real, z, (), s.hparams, jax.random.PRNGKey(0))
        extra = consensus(s, real, z, jax.random.PRNGKey(0))
        total = jax.tree.map(jnp.add, v, extra)
        return jnp.concatenate([total[0]["params"]["theta"], total[1]["params"]["psi"]])

    jacobian = jax.jacfwd(regularised)(jnp.zeros(2))
    np.testing.assert_allclose(jacobian, expected, atol=1e-6)


def _field_by_hand(theta, psi):
    """Minimax Dirac-GAN: d_loss = softplus(psi theta) + log 2, g_loss = -softplus(psi theta)."""
    s = 1 / (1 + np.exp(-psi * theta))
    return np.array([-s * psi, s * theta])


def _run(exp, state, steps):
    chunk = jax.jit(train.make_train_chunk(exp, steps))
    state, metrics = chunk(state)
    return state, metrics


def test_simultaneous_step_is_gradient_descent_on_the_hand_field():
    exp, state = _dirac()
    new, _ = train.make_train_step(exp)(_point(state, 0.8, -0.3), jax.random.PRNGKey(0))
    expected = np.array([0.8, -0.3]) - 0.1 * _field_by_hand(0.8, -0.3)
    np.testing.assert_allclose(_theta_psi(new), expected, rtol=1e-5)


def test_extragradient_steps_with_the_field_at_the_lookahead_point():
    exp, state = _dirac(extrapolation="extragradient")
    step = game.EXTRAPOLATIONS[exp.extrapolation](train.make_train_step(exp))
    new, _ = step(_point(state, 0.8, -0.3), jax.random.PRNGKey(0))
    w = np.array([0.8, -0.3])
    lookahead = w - 0.1 * _field_by_hand(*w)
    np.testing.assert_allclose(_theta_psi(new), w - 0.1 * _field_by_hand(*lookahead), rtol=1e-5)
    assert int(new.step) == 1


def test_consensus_step_matches_a_finite_difference_of_the_field_norm():
    gamma = 0.5
    exp, state = _dirac(**{"consensus.enabled": True, "consensus.weight": gamma})
    new, _ = train.make_train_step(exp)(_point(state, 0.8, -0.3), jax.random.PRNGKey(0))
    w = np.array([0.8, -0.3])
    half_norm = lambda w: 0.5 * np.sum(_field_by_hand(*w) ** 2)
    eps = 1e-5
    grad = np.array(
        [(half_norm(w + eps * e) - half_norm(w - eps * e)) / (2 * eps) for e in np.eye(2)]
    )
    expected = w - 0.1 * (_field_by_hand(*w) + gamma * grad)
    np.testing.assert_allclose(_theta_psi(new), expected, rtol=1e-4)


def _distance_after(steps, **changes):
    exp, state = _dirac(**changes)
    start = np.hypot(*_theta_psi(state))
    state, _ = _run(exp, state, steps)
    return np.hypot(*_theta_psi(state)) / start


def test_simultaneous_steps_spiral_away_and_fixes_converge():
    steps = 300
    # Simultaneous steps: each multiplies the distance by |1 - h i/2| > 1 near equilibrium.
    assert _distance_after(steps) > 1.1
    # Alternating steps preserve a conserved quantity: they neither escape nor converge.
    assert 0.8 < _distance_after(steps, update_order="alternating") < 1.1
    assert _distance_after(steps, **{"penalty.name": "r1", "penalty.weight": 1.0}) < 0.05
    assert _distance_after(steps, **{"consensus.enabled": True, "consensus.weight": 1.0}) < 0.05
    assert _distance_after(steps, extrapolation="extragradient") < 0.9


def test_optimistic_gradient_converges_on_dirac():
    config = dirac.get_config()
    for player in "gd":
        config.optim[player] = {
            "name": "optimistic_sgd",
            "learning_rate": 0.1,
            "alpha": 1.0,
            "beta": 1.0,
        }
    validate(config)
    exp, state = train.init_run(config)
    start = np.hypot(*_theta_psi(state))
    state, _ = _run(exp, state, 300)
    assert np.hypot(*_theta_psi(state)) < 0.9 * start


def test_arnoldi_with_full_space_equals_dense_eig():
    rng = np.random.default_rng(0)
    n = 12
    skew = rng.normal(size=(n, n))
    matrix = (skew - skew.T) + 0.2 * rng.normal(size=(n, n))  # a rotation-dominated game
    a = jnp.asarray(matrix, jnp.float32)
    _, hessenberg = game.arnoldi(lambda u: a @ u, jnp.ones(n), n)
    np.testing.assert_allclose(
        _sorted(game.ritz_values(hessenberg)), _sorted(np.linalg.eigvals(matrix)), atol=2e-3
    )


def test_game_spectrum_matches_dense_jacobian_on_a_small_gan():
    config = make_tiny_config(
        **{"model.g.latent_dim": 2, "model.g.hidden_sizes": (4,), "model.d.hidden_sizes": (4,)}
    )
    exp, state = train.init_run(validate(config))
    key = jax.random.PRNGKey(3)
    dense = np.linalg.eigvals(np.asarray(game.game_jacobian(exp, state, key), np.float64))
    size = dense.shape[0]
    eigenvalues, rotation = game.game_spectrum(exp, state, key, num_iters=size, top=2)
    top_imag = np.max(np.abs(dense.imag))
    assert abs(np.max(np.abs(eigenvalues.imag)) - top_imag) < 1e-2 * max(top_imag, 1e-3)
    assert rotation > 0


def test_update_cosine_metric_equals_a_recomputation_from_the_trajectory():
    exp, state = _dirac(update_order="alternating")
    steps = 12
    _, metrics = _run(exp, state, steps)
    step = jax.jit(train.make_train_step(exp))
    points = [np.array(_theta_psi(state))]
    s = state
    train_key, _ = jax.random.split(state.rng)
    for t in range(steps):
        s, _ = step(s, jax.random.fold_in(train_key, t))
        points.append(np.array(_theta_psi(s)))
    updates = np.diff(np.array(points), axis=0)  # columns: theta (G), psi (D)
    for column, player in enumerate("gd"):
        u = updates[:, column]
        cosines = np.sign(u[1:] * u[:-1])  # 1-parameter players: cos is the sign agreement
        got = np.asarray(metrics[f"{player}/update_cosine"])
        np.testing.assert_allclose(got[1:], cosines, atol=1e-5)
        np.testing.assert_allclose(got.mean(), cosines.mean(), atol=1e-5)


def test_joint_gradient_norm_is_logged():
    exp, state = _dirac()
    _, metrics = train.make_train_step(exp)(_point(state, 0.8, -0.3), jax.random.PRNGKey(0))
    np.testing.assert_allclose(
        metrics["game/grad_norm"], np.linalg.norm(_field_by_hand(0.8, -0.3)), rtol=1e-5
    )


def test_loss_swing_recovers_period_and_amplitude():
    t = np.arange(1000)
    rng = np.random.default_rng(0)
    series = np.stack(
        [
            1.0 + 0.4 * np.sin(2 * np.pi * t / 40) + 1e-3 * t + rng.normal(0, 0.05, t.size),
            rng.normal(0, 0.3, t.size),
        ]
    )
    swing = loss_swing(series)
    assert swing["period"][0] == pytest.approx(40, rel=0.01)
    assert swing["amplitude"][0] == pytest.approx(0.4, rel=0.05)
    assert swing["share"][0] > 0.8
    assert swing["share"][1] < 0.1
    assert np.isnan(loss_swing(np.ones(3))["period"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("extrapolation", "lookahead", "extrapolation='lookahead' is invalid"),
        (
            "consensus.weight",
            -1.0,
            "consensus.weight=-1.0 is invalid: must be a finite number >= 0",
        ),
    ],
)
def test_bad_oscillation_fields_get_one_line_errors(field, value, message):
    config = make_tiny_config(**{field: value})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate(config)


def test_spectrum_command_reports_a_trained_runs_dense_eigenvalues(tmp_path):
    from gan_jax.loop.run import train_and_evaluate
    from gan_jax.results import api
    from gan_jax.results.spectrum import spectrum_report

    config = dirac.get_config()
    config.num_steps, config.eval_every, config.checkpoint_every = 20, 10, 10
    workdir = str(tmp_path / "dirac")
    train_and_evaluate(config, workdir, progress=False)
    report = spectrum_report(workdir, num_iters=2, top=2)
    trained = api.restore(workdir)
    dense = np.linalg.eigvals(
        np.asarray(game.game_jacobian(trained.experiment, trained.state, jax.random.PRNGKey(0)))
    )
    assert "at step 20" in report and "rotation" in report
    printed = report.splitlines()[1:3]
    top_imag = max(abs(complex(line.replace(" ", "").replace("i", "j")).imag) for line in printed)
    assert top_imag == pytest.approx(np.max(np.abs(dense.imag)), rel=1e-3)
