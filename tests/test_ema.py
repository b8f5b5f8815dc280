"""The EMA of G's weights (Yazici et al. 2019): closed forms, eval beside the raw G, resume,
and `restore(...).sample(ema=True)`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import make_tiny_config

import gan_jax
from gan_jax.loop.run import train_and_evaluate
from gan_jax.loop.workdir import read_metrics
from gan_jax.step.train import ema_params, init_run, update_ema


def _ema_state(decay=0.9):
    config = make_tiny_config(**{"ema.enabled": True, "ema.decay": decay})
    return init_run(config)[1]


def test_ema_of_a_constant_sequence_is_that_constant():
    state = _ema_state()
    constant = jax.tree.map(lambda p: jnp.full_like(p, 0.7), state.g_params)
    state = state.replace(g_params=constant)
    np.testing.assert_array_equal(  # before any step: the raw weights
        jax.tree.leaves(ema_params(state))[0], jax.tree.leaves(constant)[0]
    )
    for _ in range(5):
        state = update_ema(state)
    jax.tree.map(lambda e: np.testing.assert_allclose(e, 0.7, rtol=1e-6), ema_params(state))


def test_ema_matches_its_closed_form_on_a_varying_sequence():
    decay = 0.8
    state = _ema_state(decay)
    for t in range(1, 6):
        state = state.replace(
            g_params=jax.tree.map(lambda p, t=t: jnp.full_like(p, t), state.g_params)
        )
        state = update_ema(state)
    want = sum(decay ** (5 - s) * (1 - decay) * s for s in range(1, 6)) / (1 - decay**5)
    jax.tree.map(lambda e: np.testing.assert_allclose(e, want, rtol=1e-5), ema_params(state))


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("ema"))
    config = make_tiny_config(**{"ema.enabled": True, "ema.decay": 0.5})
    return config, workdir, train_and_evaluate(config, workdir, progress=False)


def test_the_ema_g_is_evaluated_beside_the_raw_g(ema_run):
    _, workdir, _ = ema_run
    rows = read_metrics(f"{workdir}/metrics.jsonl")
    for key in ("modes_covered", "high_quality_pct", "reverse_kl", "mode_histogram"):
        assert f"ema/{key}" in rows[-1], key
    assert rows[0]["ema/reverse_kl"] == rows[0]["reverse_kl"]  # step 0: the EMA is G itself


def test_restore_samples_the_ema_g(ema_run, tmp_path):
    _, workdir, state = ema_run
    gan = gan_jax.restore(workdir)
    raw, ema = gan.sample(64, seed=1), gan.sample(64, seed=1, ema=True)
    assert raw.shape == ema.shape == (64, 2) and not np.allclose(raw, ema)
    jax.tree.map(np.testing.assert_array_equal, gan.state.g_ema, state.g_ema)


def test_ema_resumes_bit_identically(ema_run, tmp_path):
    config, _, whole = ema_run
    workdir = str(tmp_path / "resumed")
    train_and_evaluate(config, workdir, stop_after_chunks=1, progress=False)
    jax.tree.map(
        np.testing.assert_array_equal, train_and_evaluate(config, workdir, progress=False), whole
    )


def test_sampling_the_ema_of_a_run_without_one_is_one_line(tmp_path):
    workdir = str(tmp_path)
    train_and_evaluate(make_tiny_config(num_steps=10), workdir, progress=False)
    with pytest.raises(ValueError, match=r"this run kept no EMA of G \(ema.enabled=False\)"):
        gan_jax.restore(workdir).sample(4, ema=True)


def test_a_sweep_reports_the_ema_g_in_its_csv_and_report(tmp_path):
    import csv

    import ml_collections

    from gan_jax.commands import train_and_report

    config = make_tiny_config(num_steps=10, **{"ema.enabled": True})
    config.sweep = ml_collections.ConfigDict(dict(seeds=2, grid=dict(ema=dict(decay=(0.5, 0.9)))))
    train_and_report(config, str(tmp_path), progress=False)
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and all(r["final_ema/modes_covered"] != "" for r in rows)
    report = (tmp_path / "report.md").read_text()
    table = report.split("## EMA of G")[1].split("\n## ")[0]
    for variant in ("ema.decay=0.5", "ema.decay=0.9"):
        assert f"| {variant} |" in table
