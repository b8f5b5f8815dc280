"""configs/literature.py and experiments/literature_2d (issue 23): every method of the
mode-collapse literature on VEEGAN's / GDPP's protocol, expanded into one sweep, each method a
group whose seeds train as one vmapped program, equal to the same seeds trained one by one."""

import csv
import importlib.util
import json
import os
import shutil

import jax
import ml_collections
import numpy as np
import pytest
from conftest import make_tiny_config

from configs import literature
from gan_jax.commands import train_and_report
from gan_jax.loop import run, sharding
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import init_group_state
from gan_jax.loop.sharding import runs_mesh
from gan_jax.loop.sweep import expand, group_runs
from gan_jax.step.config import set_field, validate
from gan_jax.step.train import init_run, make_train_chunk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _script(name: str):
    """experiments/literature_2d/<name>.py, loaded as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, "experiments", "literature_2d", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sweep_config():
    module = _script("config")
    return module.get_config()


def test_the_sweep_is_every_method_on_both_mixtures_on_one_protocol():
    runs = expand(_sweep_config())
    assert len(runs) == len(literature.METHODS) * len(literature.DATA) * 10
    groups = group_runs(runs)
    assert len(groups) == 18  # one compiled group per method and data set: its 10 seeds vmap
    by_variant = {r.variant: r.config for r in runs}
    for variant, config in by_variant.items():
        assert config.num_steps == 25_000 and config.batch_size == 512
        assert config.model.g.hidden_sizes == config.model.d.hidden_sizes == (128, 128)
        assert config.model.g.latent_dim == 256 and config.eval.num_samples == 2_500
        method = variant.removeprefix("config=literature:").split("-")[0]
        assert config.eval.samplers == (() if method in literature.WITHOUT_DRS else ("drs",))
    ring = {v.split(":")[1].split("-")[0]: c for v, c in by_variant.items() if v.endswith("ring")}
    assert ring["gan"].optim.g.learning_rate == 1e-3 and ring["gan"].optim.d.learning_rate == 1e-4
    assert ring["unrolled"].unroll.steps == 5 and ring["gan"].unroll.steps == 0
    assert ring["ali"].pairing == "ali" and ring["veegan"].pairing == "veegan"
    assert ring["veegan"].g_regularizer.name == "reconstruction"
    assert ring["gdpp"].g_regularizer.name == "gdpp"
    assert ring["mode_seeking"].g_regularizer.name == "mode_seeking"
    assert (ring["pacgan2"].model.d.pack, ring["pacgan4"].model.d.pack) == (2, 4)
    assert ring["wgan_gp"].penalty.name == "gp" and ring["wgan_gp"].n_d_steps == 5


def test_the_gan_probes_change_one_published_choice_at_a_time():
    """gan_probe.py: the minimax loss, the notebook's orthogonal init, both; nothing else."""
    module = _script("gan_probe")
    runs = expand(module.get_config())
    assert len(runs) == 5 * 5 and len(group_runs(runs)) == 5
    gan = wd.config_to_dict(literature.get_config("gan-ring"))
    want = {
        "gan_minimax": {"objective": "minimax"},
        "gan_orthogonal": {"model.g.orthogonal_gain": 1.4, "model.d.orthogonal_gain": 1.4},
    }
    want["gan_notebook"] = {**want["gan_minimax"], **want["gan_orthogonal"]}
    want["gan_notebook_r1"] = {**want["gan_notebook"], "data.radius": 1.0, "data.std": 0.01}
    for probe, changes in want.items():
        config = validate(literature.get_config(f"{probe}-ring"))
        differences = wd.config_differences(gan, wd.config_to_dict(config))
        assert sorted(d.split(":")[0] for d in differences) == sorted(changes), differences
    # A literature run stored before the field existed still matches flax's default init.
    stored = wd.config_to_dict(literature.get_config("gan-ring"))
    del stored["model"]["g"]["orthogonal_gain"], stored["model"]["d"]["orthogonal_gain"]
    assert not wd.config_differences(stored, gan)


def test_a_bad_argument_names_the_choices_in_one_line():
    with pytest.raises(ValueError, match=r"use <method>-<data>, method one of .*'gdpp'") as error:
        literature.get_config("gdpp-spiral")
    assert "\n" not in str(error.value)


def _tiny(config, seed):
    """The method at test size: the same parts (pairing, regulariser, packing, penalty, k)."""
    for field, value in {
        "seed": seed,
        "batch_size": 16,
        "model.g.latent_dim": 4,
        "model.g.hidden_sizes": (8,),
        "model.d.hidden_sizes": (8,),
        "eval.num_samples": 64,
    }.items():
        set_field(config, field, value)
    if config.model.encoder.name != "none":
        config.model.encoder.hidden_sizes = (8,)
    if config.unroll.steps:
        config.unroll.steps = 2
    return validate(config)


# The methods new with issue 23 (VEEGAN's sweep resumes bit-identically in test_encoder.py; the
# others have their own tests); GDPP also against its seeds one by one: eigh under vmap.
@pytest.mark.parametrize("method", ["ali", "gdpp", "mode_seeking"])
def test_a_new_methods_seeds_train_as_one_vmapped_program(method):
    configs = [_tiny(literature.get_config(f"{method}-ring"), seed) for seed in (0, 1)]
    mesh = runs_mesh(1)
    programs = run.programs(configs[0], mesh, "vmap")
    stacked, _ = programs.chunk(3)(
        init_group_state(configs, mesh), sharding.replicate(programs.exp.dataset, mesh)
    )
    assert np.all(np.asarray(stacked.diverged_at) == -1) and np.all(stacked.step == 3)
    seeds_differ = [not np.array_equal(a[0], a[1]) for a in jax.tree.leaves(stacked.g_params)]
    assert any(seeds_differ)  # two runs, not one run twice
    if method != "gdpp":
        return
    exp, single = init_run(configs[1])
    single, _ = jax.jit(make_train_chunk(exp, 3))(single)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a[1], b, rtol=1e-4, atol=1e-5), stacked, single
    )


def test_keep_merges_split_workdirs_and_a_copy_of_what_it_kept_resumes(tmp_path):
    """experiments/literature_2d/keep.py: the finished runs of two workdirs that each trained part
    of one sweep become one sweep workdir (no tensorboard events) whose results.csv has every
    run's numbers, also a run whose folder is gone but whose row was kept; a copy of it given to
    the whole sweep trains nothing again."""
    keep = _script("keep")

    def sweep_of(*bases):
        config = make_tiny_config()
        config.sweep = ml_collections.ConfigDict(
            dict(
                seeds=1,
                configs=bases,
                set=dict(
                    num_steps=4,
                    eval_every=2,
                    checkpoint_every=4,
                    batch_size=16,
                    model=dict(g=dict(latent_dim=4, hidden_sizes=(8,)), d=dict(hidden_sizes=(8,))),
                    eval=dict(num_samples=64, plot_samples=16),
                ),
            )
        )
        return config

    parts = [str(tmp_path / "a"), str(tmp_path / "b")]
    for part, base in zip(parts, ("gan", "lsgan"), strict=True):
        train_and_report(sweep_of(base), part, progress=False)
    whole, kept = sweep_of("gan", "lsgan"), str(tmp_path / "kept")
    assert sorted(keep.keep(whole, parts, kept)) == ["config=gan,seed=0", "config=lsgan,seed=0"]
    assert keep.keep(whole, parts, kept) == []  # kept once
    assert not any("tensorboard" in dirs for _, dirs, _ in os.walk(kept))
    for part, name in zip(parts, ("config=gan,seed=0", "config=lsgan,seed=0"), strict=True):
        saved = sorted(os.listdir(os.path.join(part, "runs", name, "samples")))
        assert os.listdir(os.path.join(kept, "runs", name, "samples")) == [saved[-1]]
    with open(os.path.join(kept, "results.csv")) as f:
        rows = {row["run"]: row for row in csv.DictReader(f)}
    for part, name in zip(parts, ("config=gan,seed=0", "config=lsgan,seed=0"), strict=True):
        with open(os.path.join(part, "results.csv")) as f:
            (original,) = csv.DictReader(f)
        assert rows[name]["final_reverse_kl"] == original["final_reverse_kl"]
    # A run whose folder was lost but whose row was kept stays in results.csv, as it was,
    # when keep runs again without it; the report says its tables leave it out.
    shutil.rmtree(os.path.join(kept, "runs", "config=lsgan,seed=0"))
    assert keep.keep(whole, parts[:1], kept) == []
    with open(os.path.join(kept, "results.csv")) as f:
        assert {row["run"]: row for row in csv.DictReader(f)} == rows
    with open(os.path.join(kept, "report.md")) as f:
        assert "1 more finished runs are in results.csv as rows only" in f.read()
    assert keep.keep(whole, parts, kept) == ["config=lsgan,seed=0"]  # its folder is back
    with open(os.path.join(kept, "results.csv")) as f:
        assert {row["run"]: row for row in csv.DictReader(f)} == rows
    with open(os.path.join(kept, "report.md")) as f:
        assert "rows only" not in f.read()
    resumed = str(tmp_path / "resumed")
    shutil.copytree(kept, resumed)
    metrics = os.path.join(resumed, "runs", "config=gan,seed=0", "metrics.jsonl")
    mtime = os.path.getmtime(metrics)
    assert train_and_report(whole, resumed, progress=False).finished
    assert os.path.getmtime(metrics) == mtime


def test_table_reads_modes_over_evals_from_each_runs_metrics(tmp_path):
    """experiments/literature_2d/table.py's over-training table: a run's mean and minimum modes
    over its evals from step 5,000 on, by hand, and their means over seeds in the row."""
    table = _script("table")
    evals = {  # run -> modes_covered at steps 0, 2,500, 5,000, 10,000, 25,000
        "config=literature:gan-ring,seed=0": [0, 1, 4, 6, 8],
        "config=literature:gan-ring,seed=1": [0, 8, 8, 2, 8],
    }
    results = []
    for name, modes in evals.items():
        os.makedirs(tmp_path / "runs" / name)
        with open(tmp_path / "runs" / name / "metrics.jsonl", "w") as f:
            for step, value in zip((0, 2_500, 5_000, 10_000, 25_000), modes, strict=True):
                f.write(json.dumps({"step": step, "modes_covered": value}) + "\n")
                f.write(json.dumps({"step": step, "d/loss": 0.5}) + "\n")  # a train row
        results.append(
            {
                "run": name,
                "config": "literature:gan-ring",
                "mode_hops": 2,
                "final_modes_covered": 8,
                "final_high_quality_pct": 50.0,
                "final_reverse_kl": 0.1,
            }
        )
    assert table.over_evals(str(tmp_path / "runs" / "config=literature:gan-ring,seed=0")) == (6, 4)
    assert table.over_evals(str(tmp_path / "runs" / "config=literature:gan-ring,seed=1")) == (6, 2)
    (row,) = table.training_rows(results, str(tmp_path))
    # A group with a run kept as a results.csv row only (no folder) gets no row, not a crash.
    lost = dict(results[0], run="config=literature:gan-ring,seed=2")
    assert table.training_rows([*results, lost], str(tmp_path)) == []
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["gan", "ring", "2"]
    assert cells[6].startswith("6.00 [6.00, 6.00]")  # both runs average 6 modes
    assert cells[7].startswith("3.0 [") and cells[7].endswith("fewest 2")
    assert cells[8].startswith("2.0 [")


def test_the_veegan_probes_change_only_what_they_name():
    module = _script("veegan_probe")
    groups = group_runs(expand(module.get_config()))
    # the two stochastic probes differ in a dynamic field (D's rate): one compiled group
    assert [len(group) for group in groups] == [5, 10]
    veegan = wd.config_to_dict(literature.get_config("veegan-ring"))

    def changed(probe):
        probe = wd.config_to_dict(validate(literature.get_config(f"{probe}-ring")))
        return sorted(d.split(":")[0] for d in wd.config_differences(veegan, probe)), probe

    fields, probe = changed("veegan_dim_mean")
    assert fields == ["g_regularizer.weight"]
    assert probe["g_regularizer"]["weight"] == pytest.approx(1 / 256)
    fields, probe = changed("veegan_stochastic")
    assert fields == ["g_regularizer.name", "model.encoder.name"]
    assert probe["model"]["encoder"]["name"] == "gaussian_mlp"
    fields, probe = changed("veegan_stochastic_fast_d")
    assert fields == ["g_regularizer.name", "model.encoder.name", "optim.d.learning_rate"]
    assert probe["optim"]["d"]["learning_rate"] == pytest.approx(1e-3)


def test_the_wgan_gp_probe_changes_only_gs_rate():
    """wgan_gp_probe.py: the main sweep's WGAN-GP on the ring, 5 seeds, G at 1e-3 (D at 1e-4)."""
    module = _script("wgan_gp_probe")
    runs = expand(module.get_config())
    assert [run.config.seed for run in runs] == [0, 1, 2, 3, 4] and len(group_runs(runs)) == 1
    wgan_gp = wd.config_to_dict(literature.get_config("wgan_gp-ring"))
    probe = wd.config_to_dict(validate(literature.get_config("wgan_gp_g_fast-ring")))
    differences = wd.config_differences(wgan_gp, probe)
    assert [d.split(":")[0] for d in differences] == ["optim.g.learning_rate"], differences
    assert (probe["optim"]["g"]["learning_rate"], probe["optim"]["d"]["learning_rate"]) == (
        pytest.approx(1e-3),
        pytest.approx(1e-4),
    )


def test_spread_measures_each_samples_distance_to_its_nearest_mode_in_sigmas(tmp_path, capsys):
    """experiments/literature_2d/spread.py on a hand-made run folder: samples placed 1, 5 and 20
    sigma from ring modes read back as those distances, and the shares within 3 / 6 / 10 sigma."""
    spread = _script("spread")
    from gan_jax.parts import data

    ring = data.make_dataset("ring")
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": {"name": "ring", "std": None}}))
    centers = np.asarray(ring.centers)
    outward = centers / np.linalg.norm(centers, axis=1, keepdims=True)  # away from the others
    samples = np.concatenate(
        [centers[k] + s * ring.std * outward[k : k + 1] for k, s in ((0, 1.0), (3, 5.0), (5, 20.0))]
    )
    np.save(run / "samples" / "step_00000010.npy", samples.astype(np.float32))
    np.save(run / "samples" / "step_00000002.npy", centers.astype(np.float32))  # an older eval
    np.testing.assert_allclose(spread.distances(str(run)), [1.0, 5.0, 20.0], rtol=1e-4)
    assert spread.main([str(run)]) == 0
    assert "33.3 % | 66.7 % | 66.7 %" in capsys.readouterr().out
