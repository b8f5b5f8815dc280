"""The runs of finished workdirs as rows: what `gan_jax.results.compare` compares, and notebooks.

    rows = gan_jax.load_results("runs/unroll_ring")   # a sweep, a comparison, a run or a CSV
    [r["final_modes_covered"] for r in rows if r["variant"] == "unroll.steps=10"]

A row is `report.run_row` (final / best / late metrics, seed, divergence, wall time) plus the
run's variant; a list of dicts keeps the library free of pandas (a notebook that wants a
DataFrame writes `pandas.DataFrame(rows)`).
"""

import csv
import math
import os
import warnings
from typing import NamedTuple

import ml_collections

from gan_jax.loop import sweep as sweeps
from gan_jax.loop import workdir as wd
from gan_jax.loop.writers import read_metrics
from gan_jax.results import report
from gan_jax.step.config import ConfigError

RESULTS = "results.csv"


class ResultsError(ValueError):
    """An input that cannot be read as finished results; the message is one line."""


class Run(NamedTuple):
    """One finished run: its results row, flattened config ({} when only a CSV row is known) and
    metric history (metrics.jsonl rows; [] for a CSV row)."""

    row: dict
    config: dict
    history: list


class Input(NamedTuple):
    """One thing being compared: a sweep, a single run or a results.csv, under a `label`."""

    label: str
    path: str
    kind: str  # "sweep", "run" or "csv"
    config: dict | None  # its config.json (a sweep's holds `sweep`), None for a bare CSV
    runs: list[Run]


class _SweepRun(NamedTuple):  # what `report.run_row` reads of a run
    name: str
    variant: str
    assignments: dict
    config: ml_collections.ConfigDict


def parse_value(text: str):
    """A CSV cell as the value it was written from: "" -> None, "True" -> True, "3" -> 3."""
    if text in ("", "None"):
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_csv(path: str) -> list[dict]:
    """The rows of a results.csv, cells parsed (`parse_value`). A row with more or fewer cells
    than the header, or without a variant, is a one-line `ResultsError` naming the file and the
    line: a torn or hand-edited file is never read as results."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = []
            for row in reader:
                fields = len(reader.fieldnames or [])
                extra, missing = len(row.get(None, [])), list(row.values()).count(None)
                if extra or missing:
                    cells = fields + extra - missing
                    raise ResultsError(
                        f"{path} line {reader.line_num} is malformed ({cells} cells where its "
                        f"header has {fields}); fix or delete that line"
                    )
                if "variant" in row and not row["variant"]:
                    raise ResultsError(
                        f"{path} line {reader.line_num} is malformed (no variant); fix or delete "
                        "that line"
                    )
                rows.append({k: parse_value(v) for k, v in row.items()})
    except (UnicodeDecodeError, csv.Error) as error:
        raise ResultsError(
            f"{path} is not a readable CSV ({' '.join(str(error).split())}); fix or replace it"
        ) from None
    for row in rows:
        if "variant" in row:
            row["variant"] = str(row["variant"])  # a variant named "3" stays a name
    return rows


def _variant(name: str) -> str:
    """A sweep run's variant from its name "<variant>,seed=<n>" (or "seed=<n>": "base")."""
    head, _, _ = name.rpartition(",seed=")
    return head or "base"


def _expected_runs(sweep: dict) -> int:
    """How many runs a sweep config (its `sweep` field, as stored in config.json) trains."""
    count = max(len(sweep.get("configs") or ()), 1) * int(sweep.get("seeds", 1))
    for values in wd.flatten(sweep.get("grid") or {}).values():
        count *= len(values)
    return count


def _sweep_runs(path: str, config: dict) -> list[Run]:
    sweep = config["sweep"]
    swept = list(wd.flatten(sweep.get("grid") or {}))
    if sweep.get("configs"):
        swept = ["config", *swept]
    folders = [folder for folder in wd.sweep_runs(path) if _is_run(path, folder)]
    unfinished, runs = [], []
    for folder in folders:
        run_path = os.path.join(path, "runs", folder)
        run_config = wd.load_config(run_path)
        steps = wd.final_steps(run_path)
        if steps is None or steps < run_config.num_steps:
            unfinished.append(folder)
            continue
        name = wd.marker(run_path).get("name") or wd.read_json(
            os.path.join(run_path, wd.FINAL)
        ).get("name", folder)
        flat = wd.flatten(wd.config_to_dict(run_config))
        variant = _variant(name)
        assignments = {f: flat.get(f) for f in swept if f != "config"}
        if "config" in swept:
            assignments["config"] = variant.split(",")[0].removeprefix("config=")
        run = _SweepRun(name, variant, assignments, run_config)
        history = read_metrics(os.path.join(run_path, wd.METRICS))
        runs.append(Run(report.run_row(run, run_path, swept), flat, history))
    expected = _expected_runs(sweep)
    if unfinished or len(folders) < expected:
        shown = ", ".join(unfinished[:3]) + (", ..." if len(unfinished) > 3 else "")
        raise ResultsError(
            f"{path} is an unfinished sweep: {len(runs)} of {expected} runs finished"
            + (f" (unfinished: {shown})" if unfinished else "")
            + "; rerun its command to finish it"
        )
    return runs


def _is_run(sweep_path: str, folder: str) -> bool:
    """Whether runs/<folder> holds a run of the sweep; anything else there (Jupyter's
    .ipynb_checkpoints, notes, a comparison's folder) is skipped with one warning line."""
    path = os.path.join(sweep_path, "runs", folder)
    try:
        found = wd.kind(path) if os.path.isdir(path) else None
    except wd.WorkdirError:
        found = None
    if found == "sweep_run":
        return True
    warnings.warn(f"skipped {path}: it holds no run of the sweep", stacklevel=3)
    return False


def _single_run(path: str, config: dict) -> list[Run]:
    history = read_metrics(os.path.join(path, wd.METRICS))
    steps = history[-1]["step"] if history else 0
    if steps < config["num_steps"]:
        raise ResultsError(
            f"{path} is an unfinished run: step {steps} of {config['num_steps']}; "
            "rerun its command to finish it"
        )
    name = os.path.basename(os.path.normpath(path))
    run_config = ml_collections.ConfigDict(config)
    run = _SweepRun(name, name, {}, run_config)
    return [Run(report.run_row(run, path, []), wd.flatten(config), history)]


def _configs_by_run(csv_path: str, config: dict | None) -> dict[str, dict]:
    """The flattened config of each run of the sweep stored in `config` (config.json beside a
    results.csv), by run name, when the sweep is over config files (`sweep.configs`): a run's
    data set or protocol is then its file's, which neither the CSV's columns nor the sweep's
    own fields hold. Expanded from the files in this checkout; {} for other sweeps."""
    if not config or not (config.get("sweep") or {}).get("configs"):
        return {}
    try:
        runs = sweeps.expand(wd.config_from_dict(config))
    except (ConfigError, ValueError, TypeError, KeyError) as error:  # as sweep._only_grows
        raise ResultsError(
            f"{csv_path}: its runs come from config files ({', '.join(config['sweep']['configs'])})"
            f" that no longer build ({' '.join(str(error).split())}), so what each run was "
            "evaluated on is unknown; compare its sweep workdir instead"
        ) from None
    return {run.name: wd.flatten(wd.config_to_dict(run.config)) for run in runs}


def load_input(path: str, label: str | None = None) -> Input:
    """The finished runs at `path` (a sweep or run workdir, or a results.csv file), or a
    `ResultsError` naming what is missing or unfinished."""
    label = label or os.path.basename(os.path.normpath(path))
    if path.endswith(".csv"):
        if not os.path.isfile(path):
            raise ResultsError(f"{path} does not exist")
        beside = os.path.join(os.path.dirname(path), wd.CONFIG)
        config = None
        if os.path.exists(beside):
            config = wd.read_json(beside, "put back its original content")
        flat = wd.flatten({k: v for k, v in (config or {}).items() if k != "sweep"})
        per_run = _configs_by_run(path, config)
        runs = []
        for row in read_csv(path):
            if per_run and row.get("run") not in per_run:
                raise ResultsError(
                    f"{path}: run {row.get('run')!r} is not a run of the sweep in its config.json,"
                    " so what it was evaluated on is unknown; compare its sweep workdir instead"
                )
            known = per_run.get(row.get("run")) or flat
            runs.append(Run(row, {**known, **{k: v for k, v in row.items() if "." in k}}, []))
        if not runs:
            raise ResultsError(f"{path} holds no runs")
        return Input(label, path, "csv", config, runs)
    if not os.path.isdir(path):
        raise ResultsError(f"{path} does not exist")
    config_path = os.path.join(path, wd.CONFIG)
    if not os.path.exists(config_path):
        raise ResultsError(f"{path} holds no gan_jax run or sweep (no {wd.CONFIG})")
    config = wd.read_json(config_path, "put back its original content")
    if "sweep" in config:
        return Input(label, path, "sweep", config, _sweep_runs(path, config))
    return Input(label, path, "run", config, _single_run(path, config))


def load_results(path: str) -> list[dict]:
    """The runs of a sweep, a comparison (`gan_jax.results.compare`'s workdir), a single run or a
    results.csv as a list of dicts, one per run: numbers as numbers, empty cells as None."""
    csv_path = os.path.join(path, RESULTS) if os.path.isdir(path) else path
    if os.path.isfile(csv_path):
        return read_csv(csv_path)
    return [run.row for run in load_input(path).runs]


def finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
