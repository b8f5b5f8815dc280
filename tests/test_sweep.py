"""Sweeps: expansion, static/dynamic grouping, every runs-axis strategy == one by one, sharding,
divergence isolation, resume (also under another strategy), and the results/report files."""

import csv
import json
import os

import jax
import ml_collections
import numpy as np
import pytest
from conftest import make_tiny_config

from gan_jax.commands import train_and_report
from gan_jax.loop import run, runs_axis, sharding
from gan_jax.loop.run import init_group_state
from gan_jax.loop.sharding import runs_mesh
from gan_jax.loop.sweep import expand, group_runs
from gan_jax.step.config import ConfigError, set_field, validate
from gan_jax.step.experiment import dynamic_fields, static_key
from gan_jax.step.train import init_run, make_train_chunk


def _sweep_config(seeds=2, **grid):
    config = make_tiny_config()
    config.sweep = ml_collections.ConfigDict(dict(seeds=seeds, grid=grid))
    return config


def test_expansion_is_the_grid_product_times_seeds_with_readable_names():
    config = _sweep_config(seeds=3, unroll=dict(steps=(0, 5)), data=dict(name=("ring", "grid")))
    config.seed = 10
    runs = expand(config)
    assert len(runs) == 2 * 2 * 3
    assert runs[0].name == "data.name=ring,unroll.steps=0,seed=10"  # fields sorted by name
    assert runs[-1].name == "data.name=grid,unroll.steps=5,seed=12"
    assert runs[-1].variant == "data.name=grid,unroll.steps=5"
    assert [r.config.seed for r in runs[:3]] == [10, 11, 12]
    assert runs[-1].config.unroll.steps == 5 and runs[-1].config.data.name == "grid"
    assert "sweep" not in runs[0].config


def test_bad_sweeps_get_one_line():
    with pytest.raises(ConfigError, match=r"sweep.grid.unroll.stepz names no config field"):
        expand(_sweep_config(unroll=dict(stepz=(1, 2))))
    with pytest.raises(ConfigError, match=r"sweep.seeds=0 is invalid"):
        expand(_sweep_config(seeds=0))
    with pytest.raises(ConfigError, match=r"sweep run unroll.steps=-1: unroll.steps=-1 is invalid"):
        expand(_sweep_config(unroll=dict(steps=(0, -1))))
    # A bool for a float field would be stored as 1.0 by ml_collections; it is refused instead.
    with pytest.raises(ConfigError, match=r"^sweep.grid.eval.sampler_logit_scale value True does"):
        expand(_sweep_config(eval=dict(sampler_logit_scale=(1.5, True))))


def test_runs_axis_is_validated_and_auto_maps_on_cpu_and_vmaps_on_accelerators():
    with pytest.raises(ConfigError, match=r"^sweep.runs_axis='pmap' is invalid: choose one of"):
        config = _sweep_config()
        config.sweep.runs_axis = "pmap"
        expand(config)
    assert runs_axis.resolve("auto", "cpu") == "loop"
    assert runs_axis.resolve("auto", "gpu") == runs_axis.resolve("auto", "tpu") == "vmap"
    assert runs_axis.resolve("vmap", "cpu") == "vmap" and runs_axis.resolve("map", "gpu") == "map"
    assert runs_axis.resolve("loop", "tpu") == "loop"


def test_a_sweep_interrupted_under_vmap_resumes_under_loop_as_if_uninterrupted(tmp_path):
    """The strategy is no part of a run's state or checkpoint: switching it on resume (e.g. a
    sweep started on a GPU, finished on a CPU) continues the same runs to the same numbers."""
    from gan_jax.loop import workdir as wd
    from gan_jax.loop.sweep import run_sweep

    config = _sweep_config(seeds=2)
    config.sweep.runs_axis = "loop"
    reference = str(tmp_path / "reference")
    run_sweep(config, reference, progress=False)
    workdir = str(tmp_path / "switched")
    config.sweep.runs_axis = "vmap"
    run_sweep(config, workdir, progress=False, stop_after_chunks=1)
    config.sweep.runs_axis = "loop"
    assert run_sweep(config, workdir, progress=False).finished
    for seed in (0, 1):
        rows = [
            wd.read_metrics(os.path.join(root, "runs", f"seed={seed}", "metrics.jsonl"))
            for root in (workdir, reference)
        ]
        assert [r["step"] for r in rows[0]] == [0, 10, 20]
        for got, want in zip(*rows, strict=True):
            assert set(got) == set(want) and "reverse_kl" in got
            for key in set(want) - {"steps_per_sec"}:
                if want[key] is None:  # a metric with no value yet (e.g. at step 0)
                    assert got[key] is None, key
                else:
                    np.testing.assert_allclose(
                        got[key], want[key], rtol=1e-3, atol=1e-4, err_msg=key
                    )


def test_dynamic_fields_share_a_group_and_static_fields_split_it():
    config = _sweep_config(
        seeds=2, unroll=dict(steps=(0, 3)), optim=dict(d=dict(learning_rate=(1e-4, 1e-3)))
    )
    groups = group_runs(expand(config))
    assert len(groups) == 2  # one per k; learning rates and seeds vmap
    assert [len(g) for g in groups] == [4, 4]
    assert {r.config.unroll.steps for r in groups[1]} == {3}


def _train_group(configs, length, devices=1, strategy="vmap"):
    """A group's chunk as a sweep compiles it (`run.programs`), walking the runs by `strategy`."""
    mesh = runs_mesh(min(len(configs), devices))
    programs = run.programs(configs[0], mesh, strategy)
    state = init_group_state(configs, mesh)
    return programs.chunk(length)(state, sharding.replicate(programs.exp.dataset, mesh))[0]


def _variants():
    configs = []
    for seed, lr in [(0, 1e-4), (1, 1e-3), (2, 3e-4)]:
        config = make_tiny_config(seed=seed, **{"unroll.steps": 2})
        config.optim.d.learning_rate = lr
        configs.append(config)
    return configs


# "map" is checked through test_sharded_equals_unsharded (map, sharded = vmap, unsharded = these
# runs one by one); "auto" is one of them.
@pytest.mark.parametrize("strategy", ["vmap", "loop"])
def test_a_groups_runs_equal_the_same_runs_trained_one_by_one(strategy):
    configs = _variants()
    stacked = _train_group(configs, 10, strategy=strategy)
    chunk = None  # the runs differ only in dynamic fields: one single-run program for all
    for i, config in enumerate(configs):
        exp, single = init_run(config)
        chunk = chunk or jax.jit(make_train_chunk(exp, 10))
        single, _ = chunk(single)
        row = jax.tree.map(lambda a, i=i: a[i], stacked)
        if runs_axis.resolve(strategy) == "loop":  # the very single-run program: bit-identical
            jax.tree.map(np.testing.assert_array_equal, row, single)
        # Batched matmuls may sum in another order: agree to float32 round-off over 10 steps.
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), row, single
        )


@pytest.mark.parametrize("num_runs, strategy", [(5, "vmap"), (4, "map"), (5, "loop")])
def test_sharded_equals_unsharded(num_runs, strategy):
    """4 runs on 4 devices: one run per device ("map" calls the single-run program); 5 runs pad
    to 8, two per device ("loop" walks them one after another, as "map" does)."""
    assert jax.device_count() == 4  # conftest's virtual devices
    configs = [make_tiny_config(seed=s) for s in range(num_runs)]
    sharded = _train_group(configs, 6, devices=4, strategy=strategy)
    unsharded = _train_group(configs, 6, devices=1, strategy="vmap")
    assert sharded.step.shape[0] == (4 if num_runs == 4 else 8)  # 5 runs pad to 8
    assert len(sharded.step.sharding.device_set) == 4
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a[:num_runs], b[:num_runs], rtol=1e-5, atol=1e-6),
        sharded,
        unsharded,
    )


@pytest.mark.parametrize("strategy", ["vmap", "loop"])
def test_a_diverging_run_is_frozen_and_does_not_touch_the_others(strategy):
    healthy = _variants()[:2]
    exploding = make_tiny_config(seed=5)
    exploding.optim.d.learning_rate = 1e36
    exploding.optim.g.learning_rate = 1e36
    with_bad = _train_group([healthy[0], exploding, healthy[1]], 10, strategy=strategy)
    without = _train_group(healthy, 10, strategy=strategy)
    assert 0 <= int(with_bad.diverged_at[1]) < 10
    assert list(np.asarray(with_bad.diverged_at)[[0, 2]]) == [-1, -1]
    for leaf in jax.tree.leaves((with_bad.g_params, with_bad.d_params)):
        assert np.all(np.isfinite(leaf[1]))
    jax.tree.map(
        lambda a, b: np.testing.assert_array_equal(np.asarray(a)[[0, 2]], b), with_bad, without
    )


def test_interrupted_sweep_resumes_skips_finished_runs_and_reports_every_run(tmp_path):
    """Also: eval.plot_samples=0 (the reference) keeps no samples and draws none of their
    figures, and changes no number (the resumed sweep keeps 64 per eval)."""
    config = _sweep_config(seeds=2, unroll=dict(steps=(0, 2)))
    reference = str(tmp_path / "reference")
    train_and_report(config, reference, progress=False)
    assert not os.path.exists(os.path.join(reference, "plots", "final_samples.png"))
    assert "Final samples" not in open(os.path.join(reference, "report.md")).read()
    for name in os.listdir(os.path.join(reference, "runs")):
        samples = os.path.join(reference, "runs", name, "samples")
        assert not os.path.isdir(samples) or not os.listdir(samples)
    config.eval.plot_samples = 64

    workdir = str(tmp_path / "resumed")
    train_and_report(
        config, workdir, progress=False, stop_after_chunks=3
    )  # group 1 done, group 2 half
    runs_dir = os.path.join(workdir, "runs")
    first = os.path.join(runs_dir, "unroll.steps=0,seed=0", "metrics.jsonl")
    assert os.path.exists(os.path.join(runs_dir, "unroll.steps=0,seed=0", "final.json"))
    assert not os.path.exists(os.path.join(runs_dir, "unroll.steps=2,seed=0", "final.json"))
    mtime = os.path.getmtime(first)
    train_and_report(config, workdir, progress=False)
    assert os.path.getmtime(first) == mtime  # the finished group was skipped

    with open(os.path.join(workdir, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(reference, "results.csv")) as f:
        reference_rows = list(csv.DictReader(f))
    assert sorted(r["run"] for r in rows) == sorted(
        f"unroll.steps={k},seed={s}" for k in (0, 2) for s in (0, 1)
    )
    for row, ref in zip(rows, reference_rows, strict=True):
        for key in ("final_modes_covered", "final_high_quality_pct", "final_reverse_kl"):
            assert row[key] == ref[key], (row["run"], key)
    report = open(os.path.join(workdir, "report.md")).read()
    for variant in ("unroll.steps=0", "unroll.steps=2"):
        assert f" {variant} | 2 |" in report
    for name in ("curve_modes_covered.png", "final_vs_unroll_steps.png", "final_samples.png"):
        assert os.path.exists(os.path.join(workdir, "plots", name))


def test_sweep_over_config_files_applies_set_then_grid():
    config = make_tiny_config()
    config.sweep = ml_collections.ConfigDict(
        dict(
            seeds=2,
            configs=("lsgan", "ebgan"),
            set=dict(num_steps=7, batch_size=16),
            grid=dict(data=dict(name=("ring", "grid"))),
        )
    )
    runs = expand(config)
    assert len(runs) == 2 * 2 * 2
    assert runs[0].name == "config=lsgan,data.name=ring,seed=0"
    ebgan = [r for r in runs if r.assignments["config"] == "ebgan"]
    assert all(
        r.config.objective == "ebgan" and r.config.model.d.name == "autoencoder" for r in ebgan
    )
    assert all(r.config.num_steps == 7 and r.config.batch_size == 16 for r in runs)
    assert len(group_runs(runs)) == 4  # objective and data set are static; seeds vmap
    config.sweep.configs = ("nope",)
    with pytest.raises(
        ConfigError, match=r"sweep.configs names 'nope', but configs/nope.py does not exist"
    ):
        expand(config)


def test_group_rows_do_not_depend_on_grid_order():
    forward = _sweep_config(seeds=1, optim=dict(d=dict(learning_rate=(1e-4, 1e-3))))
    backward = _sweep_config(seeds=1, optim=dict(d=dict(learning_rate=(1e-3, 1e-4))))
    names = lambda config: [run.name for run in group_runs(expand(config))[0]]
    assert names(forward) == names(backward)


def test_raising_num_steps_continues_a_finished_sweep(tmp_path):
    config = _sweep_config(seeds=2)
    config.num_steps = 10
    train_and_report(config, str(tmp_path), progress=False)
    config.num_steps = 20
    train_and_report(config, str(tmp_path), progress=False)
    for seed in (0, 1):
        path = os.path.join(tmp_path, "runs", f"seed={seed}", "metrics.jsonl")
        steps = [json.loads(line)["step"] for line in open(path)]
        assert steps == [0, 10, 20]


def test_set_applies_to_a_sweep_of_its_own_config_too():
    config = make_tiny_config(num_steps=20)
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=1, set=dict(num_steps=7), grid=dict(unroll=dict(steps=(0, 1))))
    )
    runs = expand(config)
    assert [r.config.num_steps for r in runs] == [7, 7]


def _state_value(state, place, run):
    """Where a dynamic number lives in a stacked GANState (written out independently of
    `dynamic_params`): optimizer hyperparameters in the optax state, the rest in `hparams`."""
    if place == ("ema_decay",):  # in the EMA's optax state, like an optimizer's
        return float(state.g_ema.hyperparams["decay"][run])
    if place[0] in ("g", "d"):
        opt_state = state.g_opt_state if place[0] == "g" else state.d_opt_state
        return float(opt_state.hyperparams[place[1]][run])
    node = state.hparams
    for part in place:
        node = node[part]
    return float(node[run])


@pytest.mark.parametrize(
    "name, overrides",
    [
        ("default", {"penalty.name": "r1", "penalty.weight": 1.0, "ema.enabled": True}),
        ("began", {"consensus.enabled": True}),
    ],
)
def test_every_dynamic_field_varied_in_one_group_reaches_each_runs_state(name, overrides):
    """Property: for each declared dynamic field, two runs that differ only in it form one
    compiled group, and each run's state carries its own value."""
    from configs import began

    base = make_tiny_config(**overrides) if name == "default" else began.get_config()
    if name != "default":
        for field, value in {"batch_size": 32, "model.g.latent_dim": 8, **overrides}.items():
            set_field(base, field, value)
    fields = dynamic_fields(base)
    assert {"seed", "optim.g.learning_rate", "optim.d.b1", "penalty.weight"} <= set(fields)
    assert ("consensus.weight" in fields) == base.consensus.enabled
    mesh = runs_mesh(1)
    for field, place in fields.items():
        configs = [ml_collections.ConfigDict(base.to_dict()) for _ in range(2)]
        old = configs[0]
        for part in field.split(".")[:-1]:
            old = old[part]
        value = old.get(field.split(".")[-1], 0.5)
        new = value + 1 if field == "seed" else value * 0.5 + 0.01
        set_field(configs[1], field, type(value)(new))
        for config in configs:
            validate(config)
        assert static_key(configs[0]) == static_key(configs[1]), field
        state = init_group_state(configs, mesh)
        if place is None:  # the seed: each run's own key
            assert not np.array_equal(state.rng[0], state.rng[1])
            continue
        got = [_state_value(state, place, run) for run in (0, 1)]
        np.testing.assert_allclose(got, [float(value), float(new)], rtol=1e-6, err_msg=field)


def test_a_field_added_to_the_config_resumes_an_unfinished_sweep_from_its_checkpoint(
    tmp_path, monkeypatch
):
    """A new config field at its migration default (`workdir.ADDED_FIELDS`) leaves the stored
    configs matching but changes the hash that names a new group's checkpoint folder: the
    resumed group must find its old folder through its runs' group.json, not start over (it
    did, and rewrote the runs' metrics from step 0)."""
    from gan_jax.loop import workdir as wd
    from gan_jax.loop.sweep import run_sweep

    config = _sweep_config(seeds=2)
    config.num_steps = 30
    reference = str(tmp_path / "reference")
    run_sweep(config, reference, progress=False)
    workdir = str(tmp_path / "resumed")
    run_sweep(config, workdir, progress=False, stop_after_chunks=2)
    monkeypatch.setitem(wd.ADDED_FIELDS, "eval.added_later", 0)
    grown = make_tiny_config(num_steps=30)
    grown.sweep = config.sweep
    grown.eval.added_later = 0
    assert run_sweep(grown, workdir, progress=False).finished
    assert len(os.listdir(os.path.join(workdir, "checkpoints"))) == 1
    for seed in (0, 1):
        rows = [
            wd.read_metrics(os.path.join(root, "runs", f"seed={seed}", "metrics.jsonl"))
            for root in (workdir, reference)
        ]
        assert [r["step"] for r in rows[0]] == [0, 10, 20, 30]
        for got, want in zip(*rows, strict=True):
            assert got["modes_covered"] == want["modes_covered"]
            assert got["high_quality_pct"] == want["high_quality_pct"]
