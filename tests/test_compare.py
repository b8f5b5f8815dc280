"""`gan_jax.results.compare` end to end on two tiny sweeps, each refusal, the sweep report's baseline
columns, and the comparison of a stored experiment's results.csv."""

import csv
import json
import os
import shutil
import subprocess
import sys

import ml_collections
import pytest
from conftest import ROOT, make_tiny_config

from configs import literature
from gan_jax import load_results
from gan_jax.commands import train_and_report
from gan_jax.loop import workdir as wd
from gan_jax.loop.sweep import expand
from gan_jax.results.compare import CompareError, compare, select, variant_rows
from gan_jax.results.load import ResultsError, load_input, read_csv
from gan_jax.step.config import ConfigError

REPS = 200  # enough to exercise every interval; the README numbers use the default 2,000
BASELINE = "optim.d.learning_rate=0.0001"


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """Two finished tiny sweeps: "a" (two D learning rates, 2 seeds each, one compiled group,
    baseline set) and "b" (G's learning rate changed, 2 seeds)."""
    root = tmp_path_factory.mktemp("sweeps")
    a = make_tiny_config()
    a.sweep = ml_collections.ConfigDict(
        dict(seeds=2, grid=dict(optim=dict(d=dict(learning_rate=(1e-4, 1e-3)))), baseline=BASELINE)
    )
    b = make_tiny_config(**{"optim.g.learning_rate": 3e-4})
    b.sweep = ml_collections.ConfigDict(dict(seeds=2))
    for name, config in (("a", a), ("b", b)):
        train_and_report(config, str(root / name), progress=False)
    return root


def _one_line_and_nothing_written(error, workdir):
    assert "\n" not in str(error)
    assert not os.path.exists(workdir)


def test_two_sweeps_compared_end_to_end(sweeps, tmp_path):
    workdir = str(tmp_path / "cmp")
    tables = compare(
        [str(sweeps / "a"), f"{sweeps / 'b'}:bee"],
        workdir,
        baseline=f"a:{BASELINE}",
        reps=REPS,
        command="python -m gan_jax.results.compare a b:bee",
    )
    with open(os.path.join(workdir, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["input"] for r in rows} == {"a", "bee"}
    assert {r["variant"] for r in rows} == {
        f"a:{BASELINE}",
        "a:optim.d.learning_rate=0.001",
        "bee:base",
    }
    report = open(os.path.join(workdir, "report.md")).read()
    assert "python -m gan_jax.results.compare a b:bee" in report
    assert "Mann-Whitney U" in report and "Agarwal et al. 2021" in report
    assert "| optim.g.learning_rate | `0.001` | `0.0003` |" in report  # derived from config.json
    assert "(baseline)" in report
    for plot in ("curve_modes_covered.png", "final_metrics.png", "profile_modes_covered.png"):
        assert os.path.getsize(os.path.join(workdir, "plots", plot)) > 0
        assert f"(plots/{plot})" in report
    modes = tables["final_modes_covered"]
    assert [e["seeds"] for e in modes] == [2, 2, 2]
    by_variant = {e["variant"]: e for e in modes}
    assert by_variant[f"a:{BASELINE}"]["versus"] is None
    versus = by_variant["bee:base"]["versus"]
    assert 0.0 <= versus.improvement.low <= versus.improvement.high <= 1.0
    assert 0.0 < versus.p_value <= 1.0
    # The notebook view of the comparison and of a sweep: the same rows, numbers as numbers.
    loaded = load_results(workdir)
    assert len(loaded) == 6 and isinstance(loaded[0]["seed"], int)
    assert len(load_results(str(sweeps / "a"))) == 4
    # A rerun into the comparison's own workdir replaces it.
    compare([str(sweeps / "a")], workdir, reps=REPS)


def test_a_sweeps_own_report_carries_cis_and_the_baseline_columns(sweeps):
    report = open(sweeps / "a" / "report.md").read()
    assert "95% CI (modes / HQ % / KL)" in report
    assert f"## Against the baseline: {BASELINE}" in report
    (line,) = [
        x
        for x in report.splitlines()
        if x.startswith("| 2 |")
        and "P(better)" not in x
        and "optim.d.learning_rate=0.001 |" in x
        and "[" in x
        and "±" not in x
    ]
    assert line.count("|") == 3 + 9 + 1  # rank, variant, seeds + 3 cells x 3 metrics
    with pytest.raises(ConfigError, match=r"sweep.baseline='nope' names no variant; choose one of"):
        config = make_tiny_config()
        config.sweep = ml_collections.ConfigDict(dict(seeds=1, baseline="nope"))
        expand(config)


def test_a_single_run_is_a_one_variant_input(sweeps, tmp_path):
    run = sweeps / "a" / "runs" / f"{BASELINE},seed=0"
    tables = compare([str(run) + ":one", str(sweeps / "b")], str(tmp_path / "c"), reps=REPS)
    assert {e["variant"] for e in tables["final_modes_covered"]} == {"one", "b:base"}


def test_each_refusal_is_one_line_and_writes_nothing(sweeps, tmp_path):
    workdir = str(tmp_path / "cmp")
    a, b = str(sweeps / "a"), str(sweeps / "b")
    with pytest.raises(ResultsError, match=r"/missing does not exist"):
        compare([a, str(tmp_path / "missing")], workdir)
    _one_line_and_nothing_written(ResultsError("x"), workdir)

    unfinished = tmp_path / "unfinished"
    shutil.copytree(b, unfinished)
    os.remove(unfinished / "runs" / "seed=1" / "final.json")
    with pytest.raises(
        ResultsError, match=r"unfinished sweep: 1 of 2 runs finished \(unfinished: seed=1\)"
    ) as error:
        compare([a, str(unfinished)], workdir)
    _one_line_and_nothing_written(error.value, workdir)

    other_eval = tmp_path / "other_eval"
    shutil.copytree(b, other_eval)
    for folder in os.listdir(other_eval / "runs"):
        path = other_eval / "runs" / folder / "config.json"
        config = json.loads(path.read_text())
        config["eval"]["num_samples"] = 512
        path.write_text(json.dumps(config))
    with pytest.raises(
        CompareError, match=r"evaluated differently.*eval.num_samples is 256 in"
    ) as error:
        compare([a, str(other_eval)], workdir)
    _one_line_and_nothing_written(error.value, workdir)

    with pytest.raises(
        CompareError, match=r"--baseline=a:nope names no variant; choose one of"
    ) as error:
        compare([a, b], workdir, baseline="a:nope")
    _one_line_and_nothing_written(error.value, workdir)

    with pytest.raises(CompareError, match=r"share a label"):
        compare([a, f"{b}:a"], workdir)
    os.makedirs(tmp_path / "busy")
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(CompareError, match=r"holds other files"):
        compare([a], str(tmp_path / "busy"))


def test_command_line_refusal_exits_2_with_one_line(sweeps, tmp_path):
    workdir = tmp_path / "cmp"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_jax.results.compare",
            str(sweeps / "a"),
            str(tmp_path / "gone"),
            f"--workdir={workdir}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'gone'} does not exist"]
    assert not workdir.exists()


def test_a_stored_experiment_csv_compares_one_data_set_at_a_time(tmp_path):
    path = os.path.join(ROOT, "experiments", "mode_collapse", "results.csv")
    with pytest.raises(CompareError, match=r'data.name is "ring" in .*"grid" in'):
        compare([path], str(tmp_path / "both"))
    assert not (tmp_path / "both").exists()
    tables = compare(
        [path],
        str(tmp_path / "ring"),
        only=["data.name=ring"],
        baseline="data.name=ring,unroll.steps=0",
        reps=REPS,
    )
    modes = {e["variant"]: e for e in tables["final_modes_covered"]}
    best = tables["final_modes_covered"][0]
    assert best["variant"] == "data.name=ring,unroll.steps=10"
    assert best["summary"][0] == pytest.approx(7.8)  # the README's 7.80 ± 0.20
    assert best["versus"].difference.estimate == pytest.approx(3.3)
    assert len(modes) == 4
    # A variant with no finite value of a metric (BEGAN's KL on the ring) is "n/a", not a crash.
    balance = os.path.join(ROOT, "experiments", "balance", "results.csv")
    tables = compare([balance], str(tmp_path / "balance"), only=["data.name=ring"], reps=REPS)
    (began,) = [e for e in tables["final_reverse_kl"] if e["variant"].startswith("config=began")]
    assert began["seeds"] == 0 and began["mean_ci"] is None
    assert (
        "| 8 | config=began,data.name=ring | 0 | n/a | n/a | - |"
        in open(tmp_path / "balance" / "report.md").read()
    )


def test_a_variant_of_g_in_the_rows_is_compared_under_its_own_label(tmp_path):
    """Columns of a G variant (a sampler's "final_drs/...", as `report.run_row` writes them) are
    compared like the raw G's, labelled with their prefix, and drawn under their own name."""
    source = os.path.join(ROOT, "experiments", "mode_collapse", "results.csv")
    with open(source) as f:
        rows = list(csv.DictReader(f))
    for row in rows:  # a stand-in sampler that always finds one more mode than the raw G
        row["final_drs/modes_covered"] = str(float(row["final_modes_covered"]) + 1)
    path = tmp_path / "with_drs" / "results.csv"
    path.parent.mkdir()
    wd.write_csv(str(path), rows)
    tables = compare(
        [str(path)],
        str(tmp_path / "cmp"),
        only=["data.name=ring"],
        baseline="data.name=ring,unroll.steps=0",
        reps=REPS,
    )
    raw = {e["variant"]: e["summary"][0] for e in tables["final_modes_covered"]}
    drs = {e["variant"]: e["summary"][0] for e in tables["final_drs/modes_covered"]}
    assert drs == {variant: pytest.approx(mean + 1) for variant, mean in raw.items()}
    assert "drs: modes covered" in open(tmp_path / "cmp" / "report.md").read()


def test_a_csv_of_a_sweep_over_config_files_knows_each_runs_data_set(tmp_path):
    """A results.csv beside the config.json of a sweep over config files: each run's protocol
    is its file's (here its data set), not the sweep's base config, so --only and the protocol
    check see it; files that no longer build are one refusal line."""
    config = literature.get_config()
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=1, configs=("literature:gan-ring", "literature:gan-grid"))
    )
    wd.write_json(str(tmp_path / "config.json"), wd.config_to_dict(config))
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run", "variant", "config", "seed", "final_modes_covered"])
        for data, modes in (("ring", 8), ("grid", 20)):
            variant = f"config=literature:gan-{data}"
            writer.writerow([f"{variant},seed=0", variant, f"literature:gan-{data}", 0, modes])
    item = load_input(str(tmp_path / "results.csv"))
    assert [run.config["data.name"] for run in item.runs] == ["ring", "grid"]
    (grid,) = select(variant_rows([item]), ["data.name=grid"])
    assert grid["final_modes_covered"] == 20
    with pytest.raises(CompareError, match="evaluated differently.*data.name"):
        compare([str(tmp_path / "results.csv")], str(tmp_path / "out"))

    with open(tmp_path / "results.csv", "a", newline="") as f:
        csv.writer(f).writerow(["config=literature:gan-spiral,seed=0", "x", "x", 0, 1])
    with pytest.raises(ResultsError, match="'config=literature:gan-spiral,seed=0' is not a run"):
        load_input(str(tmp_path / "results.csv"))

    config.sweep.configs = ("literature:nope-ring",)
    wd.write_json(str(tmp_path / "config.json"), wd.config_to_dict(config))
    with pytest.raises(ResultsError, match="no longer build") as error:
        load_input(str(tmp_path / "results.csv"))
    assert "\n" not in str(error.value)


def test_write_csv_takes_every_column_in_first_seen_order_and_leaves_missing_cells_empty(tmp_path):
    """Rows of mixed variants (one with a DRS column, one without) make one results.csv that
    read_csv reads back cell for cell (an empty cell as None), and a rewrite leaves no temporary file behind."""
    path = str(tmp_path / "results.csv")
    rows = [
        {"variant": "a", "seed": 0, "final_modes_covered": 8},
        {"variant": "b", "seed": 1, "final_drs/modes_covered": 7.5, "final_modes_covered": 6},
    ]
    wd.write_csv(path, rows)
    wd.write_csv(path, rows)
    with open(path) as f:
        assert f.readline().strip() == "variant,seed,final_modes_covered,final_drs/modes_covered"
    assert [dict(r) for r in read_csv(path)] == [
        {"variant": "a", "seed": 0, "final_modes_covered": 8, "final_drs/modes_covered": None},
        {"variant": "b", "seed": 1, "final_modes_covered": 6, "final_drs/modes_covered": 7.5},
    ]
    assert os.listdir(tmp_path) == ["results.csv"]
