"""Learning-rate schedules: the update multiplier against its closed form, the dynamic peak rate
untouched, old optimizer states unchanged, bad fields one line, and a run that obeys them."""

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from conftest import make_tiny_config

from gan_jax.parts import optim
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.experiment import static_key
from gan_jax.step.train import init_run, make_train_chunk


def _sgd(schedule="constant", steps=0, final=1.0, learning_rate=0.1):
    return ml_collections.ConfigDict(
        dict(
            name="sgd",
            learning_rate=learning_rate,
            momentum=0.0,
            schedule=schedule,
            schedule_steps=steps,
            schedule_final=final,
        )
    )


def _updates(cfg, n):
    """The first n updates of `cfg`'s optimizer on a constant gradient of 1."""
    opt = optim.make_optimizer(cfg)
    state = opt.init(jnp.zeros(()))
    out = []
    for _ in range(n):
        update, state = opt.update(jnp.ones(()), state)
        out.append(float(update))
    return np.array(out)


@pytest.mark.parametrize(
    "schedule, multiplier",
    [
        ("constant", lambda t: 1.0),
        ("linear", lambda t: 1 - 0.75 * min(t, 4) / 4),
        ("cosine", lambda t: 0.25 + 0.75 * 0.5 * (1 + math.cos(math.pi * min(t, 4) / 4))),
    ],
)
def test_updates_follow_the_schedule_in_closed_form(schedule, multiplier):
    """SGD's update on a unit gradient is -lr x the multiplier: 1 -> 0.25 over 4 updates, then
    held (linear: 1 - 0.75 t / 4; cosine: 0.25 + 0.75 (1 + cos(pi t / 4)) / 2)."""
    got = _updates(_sgd(schedule, steps=4, final=0.25), 7)
    want = [-0.1 * multiplier(t) for t in range(7)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_peak_rate_stays_a_dynamic_hyperparameter_in_the_state():
    cfg = _sgd("linear", steps=4, final=0.0)
    opt = optim.make_optimizer(cfg)
    state = optim.with_hparams(opt.init(jnp.zeros(())), {"learning_rate": 0.5})
    update, _ = opt.update(jnp.ones(()), state)
    assert float(update) == pytest.approx(-0.5)
    a, b = make_tiny_config(), make_tiny_config()
    for config in (a, b):
        config.optim.g.update(schedule="cosine", schedule_steps=10, schedule_final=0.1)
    b.optim.g.learning_rate = 3e-3
    assert static_key(a) == static_key(b)  # one vmapped group
    b.optim.g.schedule_final = 0.2
    assert static_key(a) != static_key(b)  # the schedule's shape is static


def test_constant_keeps_the_optimizer_state_of_before_schedules():
    """No schedule, no extra state: checkpoints made before schedules existed restore."""
    params = {"w": jnp.zeros((2, 3))}
    before = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=0.0).init(params)
    for cfg in (
        _sgd(),
        ml_collections.ConfigDict(dict(name="sgd", learning_rate=0.1, momentum=0.0)),
    ):
        now = optim.make_optimizer(cfg).init(params)
        assert jax.tree.structure(now) == jax.tree.structure(before)


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(schedule="step"), "optim.g.schedule='step' is invalid: choose one of"),
        (
            dict(schedule="linear", schedule_steps=0),
            "optim.g.schedule_steps=0 is invalid: must be an integer >= 1",
        ),
        (
            dict(schedule="cosine", schedule_steps=10, schedule_final=1.5),
            r"optim.g.schedule_final=1.5 is invalid: must be in \[0, 1\]",
        ),
    ],
)
def test_bad_schedule_fields_are_one_line(fields, message):
    config = make_tiny_config()
    config.optim.g.update(**fields)
    with pytest.raises(ConfigError, match=message):
        validate(config)


def test_a_run_with_a_schedule_to_zero_stops_moving_g_after_its_steps():
    """G's rate falls linearly to 0 over 3 updates: G moves in steps 1-3 and (up to the rounding
    of the schedule's count / 3) not after, while D (no schedule) keeps moving."""
    config = make_tiny_config()
    config.optim.g.update(schedule="linear", schedule_steps=3, schedule_final=0.0)
    validate(config)
    exp, state = init_run(config)
    chunk = jax.jit(make_train_chunk(exp, 1))
    g, d = [state.g_params], [state.d_params]
    for _ in range(5):
        state, _ = chunk(state)
        g.append(state.g_params)
        d.append(state.d_params)

    def moved(trees):
        return np.array(
            [
                max(
                    float(np.max(np.abs(a - b)))
                    for a, b in zip(jax.tree.leaves(old), jax.tree.leaves(new), strict=True)
                )
                for old, new in zip(trees, trees[1:], strict=False)
            ]
        )

    g_moves, d_moves = moved(g), moved(d)
    assert np.all(g_moves[:3] > 1e-5), g_moves  # Adam moves each weight by ~lr x multiplier
    assert np.all(g_moves[3:] < 1e-9), g_moves
    assert np.all(d_moves > 1e-5), d_moves
