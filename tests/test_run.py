"""The host loop end to end: outputs, resume equality, workdir protection, the public API."""

import json
import os

import jax
import numpy as np
import pytest
from conftest import make_tiny_config, overwrite_four_bytes

import gan_jax
from gan_jax.loop.run import WorkdirError, train_and_evaluate
from gan_jax.loop.writers import read_metrics


def _assert_states_equal(a, b):
    jax.tree.map(np.testing.assert_array_equal, a, b)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One uninterrupted 20-step run (unrolled, k=2) shared by the tests below."""
    workdir = str(tmp_path_factory.mktemp("run"))
    config = make_tiny_config(**{"unroll.steps": 2, "eval.plot_samples": 64})
    state = train_and_evaluate(config, workdir, progress=False)
    return config, workdir, state


def test_outputs_land_in_the_workdir(finished_run):
    config, workdir, state = finished_run
    assert int(state.step) == 20
    with open(os.path.join(workdir, "config.json")) as f:
        assert json.load(f)["unroll"]["steps"] == 2
    rows = read_metrics(os.path.join(workdir, "metrics.jsonl"))
    assert [row["step"] for row in rows] == [0, 10, 20]
    for key in (
        "modes_covered",
        "high_quality_pct",
        "d/loss",
        "g/loss",
        "d/real_output",
        "g/grad_norm",
    ):
        assert key in rows[-1], key
    assert len(rows[-1]["mode_histogram"]) == 8
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == [
        "10",
        "20",
    ]  # digests inside
    assert any(
        name.startswith("events.out.tfevents")
        for name in os.listdir(os.path.join(workdir, "tensorboard"))
    )
    samples = os.listdir(os.path.join(workdir, "samples"))
    assert "samples_over_training.png" in samples and "step_00000020.npy" in samples
    assert "mode_occupancy.png" in samples


def test_interrupted_run_resumes_to_exactly_the_same_parameters(finished_run, tmp_path):
    config, _, uninterrupted = finished_run
    workdir = str(tmp_path)
    stopped = train_and_evaluate(config, workdir, stop_after_chunks=1, progress=False)
    assert int(stopped.step) == 10
    resumed = train_and_evaluate(config, workdir, progress=False)
    _assert_states_equal(resumed, uninterrupted)
    steps = [row["step"] for row in read_metrics(os.path.join(workdir, "metrics.jsonl"))]
    assert steps == [0, 10, 20]  # no row logged twice


def test_a_different_config_is_refused_and_nothing_is_touched(finished_run):
    config, workdir, _ = finished_run
    before = open(os.path.join(workdir, "metrics.jsonl")).read()
    changed = make_tiny_config(**{"unroll.steps": 7, "eval.plot_samples": 64})
    with pytest.raises(
        WorkdirError,
        match=r"a single run with a different config \(unroll.steps: 2 -> 7\).*--overwrite",
    ):
        train_and_evaluate(changed, workdir, progress=False)
    assert open(os.path.join(workdir, "metrics.jsonl")).read() == before
    assert json.load(open(os.path.join(workdir, "config.json")))["unroll"]["steps"] == 2


def test_overwrite_discards_the_old_run(tmp_path):
    workdir = str(tmp_path)
    train_and_evaluate(make_tiny_config(num_steps=10), workdir, progress=False)
    train_and_evaluate(
        make_tiny_config(num_steps=10, seed=3), workdir, overwrite=True, progress=False
    )
    assert json.load(open(os.path.join(workdir, "config.json")))["seed"] == 3
    assert [r["step"] for r in read_metrics(os.path.join(workdir, "metrics.jsonl"))] == [0, 10]


def test_restore_samples_from_the_final_generator(finished_run):
    config, workdir, state = finished_run
    gan = gan_jax.restore(workdir)
    assert gan.step == 20 and gan.config.unroll.steps == 2
    samples = gan.sample(100, seed=1)
    assert samples.shape == (100, 2) and isinstance(samples, np.ndarray)
    np.testing.assert_array_equal(samples, gan.sample(100, seed=1))
    assert not np.array_equal(samples, gan.sample(100, seed=2))
    _assert_states_equal(gan.state.g_params, state.g_params)


def test_checkpoints_over_the_last_fraction_are_kept_and_restore_at_their_step(tmp_path):
    """keep_checkpoints_over_last=0.3 of 50 steps keeps every checkpoint from step 35 on beside the
    newest 3; each restores to the state a run stopped at its step ends with, and a step that was
    not kept, or one whose bytes were damaged, is one line naming it."""

    workdir, stopped_dir = str(tmp_path / "run"), str(tmp_path / "stopped")
    config = make_tiny_config(num_steps=50, checkpoint_every=5, keep_checkpoints_over_last=0.3)
    train_and_evaluate(config, workdir, progress=False)
    assert gan_jax.checkpoint_steps(workdir) == [35, 40, 45, 50]
    stopped = train_and_evaluate(
        make_tiny_config(num_steps=35, checkpoint_every=5), stopped_dir, progress=False
    )
    gan = gan_jax.restore(workdir, step=35)
    assert gan.step == 35
    _assert_states_equal(gan.state, stopped)
    assert gan_jax.restore(workdir).step == 50
    assert gan_jax.checkpoint_steps(stopped_dir) == [25, 30, 35]  # 0: the newest 3 only
    with pytest.raises(ValueError, match=r"no checkpoint of step 30 \(steps: 35, 40, 45, 50\)"):
        gan_jax.restore(workdir, step=30)
    overwrite_four_bytes(os.path.join(workdir, "checkpoints", "40"))
    with pytest.raises(ValueError, match=r"checkpoint .*40 is damaged: "):
        gan_jax.restore(workdir, step=40)
    # Raised to 60 steps, the last 0.3 starts at step 42: the resume keeps 35 and 40 all the same.
    config.num_steps = 60
    train_and_evaluate(config, workdir, progress=False)
    assert gan_jax.checkpoint_steps(workdir) == [35, 40, 45, 50, 55, 60]
    # Raised to 70 with the newest checkpoint's metadata torn: the older ones still record 35.
    with open(os.path.join(workdir, "checkpoints", "60", "_CHECKPOINT_METADATA"), "w") as f:
        f.write("{")
    config.num_steps = 70
    train_and_evaluate(config, workdir, progress=False)
    assert gan_jax.checkpoint_steps(workdir) == [35, 40, 45, 50, 55, 60, 65, 70]


def test_the_first_kept_step_is_exact_where_floating_point_is_not():
    """`keep_from_step` against exact rational arithmetic: 1 - 0.7 is 0.30000000000000004 in
    floating point, so ceil(100 * (1 - 0.7)) would be 31 and drop step 30's checkpoint."""
    import math
    from fractions import Fraction

    from gan_jax.loop.checkpoint import keep_from_step

    assert keep_from_step(100, 0.7) == 30 and keep_from_step(100_000, 0.95) == 5_000
    assert keep_from_step(50, 0.0) is None and keep_from_step(50, 1.0) == 0
    for num_steps in (7, 50, 100, 25_000, 100_000, 400_000):
        for f in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.45, 0.7, 0.85, 0.95, 1 / 3):
            exact = math.ceil(num_steps * (1 - Fraction(repr(f))))
            assert keep_from_step(num_steps, f) == exact, (num_steps, f)


def test_overwrite_keeps_a_run_whose_config_is_unchanged(tmp_path):
    workdir = str(tmp_path)
    config = make_tiny_config(num_steps=10)
    train_and_evaluate(config, workdir, progress=False)
    state = train_and_evaluate(config, workdir, overwrite=True, progress=False)
    assert int(state.step) == 10  # resumed at the end, not retrained
    assert [r["step"] for r in read_metrics(os.path.join(workdir, "metrics.jsonl"))] == [0, 10]


def test_rows_of_an_attempt_without_checkpoint_are_not_duplicated(tmp_path):
    import shutil

    workdir = str(tmp_path)
    config = make_tiny_config(num_steps=10)
    train_and_evaluate(config, workdir, progress=False)
    shutil.rmtree(os.path.join(workdir, "checkpoints"))  # as if killed before its first save
    train_and_evaluate(config, workdir, progress=False)
    assert [r["step"] for r in read_metrics(os.path.join(workdir, "metrics.jsonl"))] == [0, 10]


def test_fields_added_since_a_run_was_made_match_at_their_old_behaviour():
    from gan_jax.loop.workdir import config_differences

    old = {"model": {"d": {"name": "mlp"}}, "seed": 0}
    new = {"model": {"d": {"name": "mlp", "pack": 1}}, "penalty": {"name": "none"}, "seed": 0}
    assert config_differences(old, new) == []
    new["model"]["d"]["pack"] = 4
    assert config_differences(old, new) == ["model.d.pack: '<absent>' -> 4"]


def _paper_parts(config):
    """PacGAN's parts on the tiny config: BatchNorm in G, maxout D, an EMA, a finite data set."""
    config.model.g.update(normalization="batch", activation="relu", init_std=0.02)
    config.model.d.update(activation="maxout", maxout_pieces=3, init_std=0.02)
    config.ema.enabled, config.data.num_points = True, 500
    return config


@pytest.mark.parametrize("variant", [lambda config: config, _paper_parts])
def test_host_fields_do_not_reach_the_programs_so_runs_differing_in_them_share_them(variant):
    """`program_key` drops `HOST_FIELDS`: check that no program reads them, by lowering every
    program (init, a train chunk, evaluate) for configs that differ only in them and comparing the
    texts; and that such configs get one cached `Programs` while other changes do not."""
    from gan_jax.loop import run
    from gan_jax.loop.sharding import runs_mesh
    from gan_jax.step.experiment import HOST_FIELDS, program_key

    def lowered(config):
        mesh = runs_mesh(1)
        exp = run.make_experiment(config)
        init = run._init_program(exp, mesh)
        inputs = run._group_inputs([config], mesh)
        state = jax.eval_shape(init, *inputs)
        chunk = jax.jit(jax.vmap(run.make_train_chunk(exp, 5), in_axes=(0, None)))
        evaluate = jax.jit(jax.vmap(run.make_evaluate(exp)))
        return [
            init.lower(*inputs).as_text(),
            chunk.lower(state, exp.dataset).as_text(),
            evaluate.lower(state).as_text(),
        ]

    base = variant(make_tiny_config())
    changed = variant(
        make_tiny_config(
            num_steps=70,
            eval_every=7,
            checkpoint_every=35,
            keep_checkpoints_over_last=0.2,
            **{"eval.plot_samples": 9, "eval.samplers_from_step": 7},
        )
    )

    def field(config, dotted):
        for part in dotted.split("."):
            config = config[part]
        return config

    assert all(field(base, f) != field(changed, f) for f in HOST_FIELDS)
    assert lowered(base) == lowered(changed)
    assert program_key(base) == program_key(changed)
    mesh = runs_mesh(1)
    assert run.programs(base, mesh) is run.programs(changed, mesh)
    other = variant(make_tiny_config(batch_size=16))
    assert program_key(other) != program_key(base)
    assert run.programs(other, mesh) is not run.programs(base, mesh)


@pytest.mark.parametrize("num_runs", [1, 3])
def test_the_loop_runs_axis_compiles_each_program_once_per_device(tmp_path, num_runs):
    """The "loop" runs axis (the CPU default) calls one single-run program per device: a run of
    three chunks and three evals compiles its train chunk and its eval once per device the runs
    are spread over, whatever sharding the first chunk's inputs came with (the init program's
    output) and the later ones (restacked outputs): jit compiles again for another sharding."""
    import ml_collections

    from gan_jax.commands import train_and_report
    from gan_jax.loop import run
    from gan_jax.loop.sharding import runs_mesh
    from gan_jax.loop.sweep import expand

    config = make_tiny_config(num_steps=30, checkpoint_every=30, seed=11)
    run.clear_programs()
    if num_runs == 1:
        train_and_evaluate(config, str(tmp_path), progress=False)
    else:
        config.sweep = ml_collections.ConfigDict(dict(seeds=num_runs))
        train_and_report(config, str(tmp_path), progress=False)
    if num_runs > 1:
        config = expand(config)[0].config  # a run's own config (the sweep's holds `sweep`)
    mesh = runs_mesh(num_runs)  # the group's mesh: one device per run here
    programs = run.programs(config, mesh, "loop")
    assert list(programs.chunks) == [10]
    assert programs.chunks[10].one_run._cache_size() == mesh.size
    assert list(programs.evaluators) == [True]  # no samplers-free eval built when unneeded
    assert programs.evaluate().one_run._cache_size() == mesh.size
