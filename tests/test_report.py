"""The sweep report's numbers against hand computations on hand-written metrics."""

import csv
import json
import math

import pytest
from conftest import make_tiny_config

from gan_jax.loop.sweep import SweepRun
from gan_jax.results.report import aggregate, run_row


def _write_run(tmp_path, name, modes, hq, seed):
    directory = tmp_path / name
    directory.mkdir()
    with open(directory / "metrics.jsonl", "w") as f:
        for i, (m, h) in enumerate(zip(modes, hq, strict=True)):
            row = {
                "step": 100 * i,
                "modes_covered": m,
                "high_quality_pct": h,
                "reverse_kl": 0.1 * i,
            }
            row.update({"steps_per_sec": 50.0, "diverged_at": -1, "mode_histogram": [0] * 8})
            f.write(json.dumps(row) + "\n")
    config = make_tiny_config(seed=seed, **{"unroll.steps": 5})
    run = SweepRun(name, "unroll.steps=5", {"unroll.steps": 5}, config)
    return run_row(run, str(directory), ["unroll.steps"])


def test_run_row_final_best_steadiness_and_wall_time(tmp_path):
    row = _write_run(tmp_path, "a", [0, 8, 2, 8, 6], [0.0, 40.0, 90.0, 50.0, 60.0], seed=0)
    assert row["final_modes_covered"] == 6 and row["best_modes_covered"] == 8
    assert row["best_high_quality_pct"] == 90.0 and row["best_reverse_kl"] == 0.1
    # second half of the evals: [2, 8, 6] -> population std
    assert math.isclose(
        row["late_std_modes_covered"],
        (((2 - 16 / 3) ** 2 + (8 - 16 / 3) ** 2 + (6 - 16 / 3) ** 2) / 3) ** 0.5,
    )
    assert row["wall_time_s"] == 4 * 100 / 50.0
    assert row["unroll.steps"] == 5 and row["seed"] == 0 and row["diverged"] is False
    assert row["mode_hops"] == 0  # empty histograms: no mode ever dominates


def test_aggregate_mean_standard_error_and_all_modes_count(tmp_path):
    rows = [
        _write_run(tmp_path, "a", [0, 8], [0.0, 50.0], seed=0),
        _write_run(tmp_path, "b", [0, 6], [0.0, 70.0], seed=1),
        _write_run(tmp_path, "c", [0, 8], [0.0, 90.0], seed=2),
    ]
    (entry,) = aggregate(rows, {"unroll.steps=5": 8})
    mean, std, sem, n = entry["modes_covered"]
    assert n == 3 and math.isclose(mean, 22 / 3)
    assert math.isclose(std, math.sqrt(((8 - 22 / 3) ** 2 * 2 + (6 - 22 / 3) ** 2) / 2))
    assert math.isclose(sem, std / math.sqrt(3))
    assert entry["all_modes"] == 2 and entry["seeds"] == 3
    assert math.isclose(entry["high_quality_pct"][0], 70.0)


def test_the_report_rebuilds_the_data_set_the_runs_trained_on(tmp_path, monkeypatch):
    """Regression: the report rebuilt data sets by name alone (no tfds_dir, image_size, radius),
    so a sweep on a prepared tfds set in its own directory trained, then failed in its report."""
    import ml_collections

    from gan_jax.commands import train_and_report
    from gan_jax.parts import data

    config = make_tiny_config(num_steps=10, **{"data.radius": 1.0, "data.std": 0.01})
    config.sweep = ml_collections.ConfigDict(dict(seeds=1))
    built = []
    make_dataset = data.make_dataset

    def spy(name, **options):
        built.append((name, {k: v for k, v in options.items() if v is not None}))
        return make_dataset(name, **options)

    monkeypatch.setattr(data, "make_dataset", spy)
    train_and_report(config, str(tmp_path), progress=False)
    assert built and all(call == ("ring", {"radius": 1.0, "std": 0.01}) for call in built), built


def test_every_logged_metric_is_declared_and_a_dirac_sweep_reports_its_own(tmp_path):
    """A metric not on any hand-written list (Dirac-GAN's distance to the data) reaches
    results.csv and report.md through its declaration alone."""
    import csv

    import jax
    import ml_collections

    from configs import dirac
    from gan_jax.commands import train_and_report
    from gan_jax.metrics import declared, evaluator_for, for_dataset
    from gan_jax.step.train import init_run

    for config in (make_tiny_config(), dirac.get_config()):
        exp, state = init_run(config)
        samples = exp.generator.apply(
            state.g_params, jax.numpy.zeros((16, exp.generator.latent_dim))
        )
        logged = set(for_dataset(exp.dataset, 16)(samples))
        evaluator = evaluator_for(exp.dataset)
        assert logged - {"mode_histogram"} == {m.name for m in evaluator.metrics}
        assert ("mode_histogram" in logged) == evaluator.mode_histogram
        assert {m.name for m in evaluator.metrics} <= set(declared.ALL)

    config = dirac.get_config()
    config.num_steps, config.eval_every, config.checkpoint_every = 20, 10, 10
    config.sweep = ml_collections.ConfigDict(dict(seeds=2))
    train_and_report(config, str(tmp_path), progress=False)
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert all(float(r["final_distance_to_data"]) >= 0 for r in rows)
    report = (tmp_path / "report.md").read_text()
    table = report.split("## Dirac-GAN")[1].split("\n## ")[0]
    assert "distance to data" in table and "| 1 | base |" in table


def test_a_new_metric_is_one_declaration_and_reaches_jsonl_csv_and_report(tmp_path, monkeypatch):
    """Declare a metric and log it from an evaluator's metric function: nothing else changes,
    and it appears in metrics.jsonl, results.csv and report.md."""
    import importlib
    import json

    import jax.numpy as jnp
    import ml_collections

    from configs import dirac
    from gan_jax import metrics
    from gan_jax.commands import train_and_report
    from gan_jax.loop import run
    from gan_jax.metrics import declared
    from gan_jax.results import report

    spread = declared.Metric("sample_spread", "sample spread", False, 3)
    evaluator = metrics.EVALUATORS["dirac"]

    def make_metric_fn(dataset, num_samples, inception_weights):
        base = evaluator.make_metric_fn(dataset, num_samples, inception_weights)
        return lambda samples: {**base(samples), "sample_spread": jnp.std(samples)}

    monkeypatch.setitem(declared.ALL, spread.name, spread)
    monkeypatch.setitem(
        metrics.EVALUATORS,
        "dirac",
        evaluator._replace(metrics=(*evaluator.metrics, spread), make_metric_fn=make_metric_fn),
    )
    importlib.reload(report)  # its tables derive from the declarations at import, as in use
    run.clear_programs()  # programs built before the new declaration would not log it
    try:
        config = dirac.get_config()
        config.num_steps, config.eval_every, config.checkpoint_every = 20, 10, 10
        config.sweep = ml_collections.ConfigDict(dict(seeds=1))
        train_and_report(config, str(tmp_path), progress=False)
    finally:
        monkeypatch.undo()
        importlib.reload(report)
        run.clear_programs()
    run_dir = next((tmp_path / "runs").iterdir())
    last = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()][-1]
    assert last["sample_spread"] >= 0
    with open(tmp_path / "results.csv") as f:
        assert float(next(csv.DictReader(f))["final_sample_spread"]) == pytest.approx(
            last["sample_spread"]
        )
    table = (tmp_path / "report.md").read_text().split("## Dirac-GAN")[1].split("\n## ")[0]
    assert "sample spread" in table and "lower is better" in table
