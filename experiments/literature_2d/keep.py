"""Keeps the literature sweep's finished runs in the repository, so that its table is built from
files under version control and a later session resumes where this one stopped.

  python experiments/literature_2d/keep.py runs/literature_2d [runs/literature_2d_b ...]

Copies every finished run folder (its metrics.jsonl, config, markers and last eval samples; not
its tensorboard events, figures or earlier samples) of the given sweep workdirs into
experiments/literature_2d/sweep/, a sweep workdir of the whole sweep (config.py) without
checkpoints, then writes that folder's results.csv, report.md and plots from the finished
runs. The source workdirs may hold any part of the sweep (one process per core, each with
`--config.sweep.configs` naming its groups): a run is the same run, by name and config, in
whichever workdir trained it. A run whose row is in results.csv but whose folder is gone (the
folders were out of the repository until session 14: a `runs/` pattern in .gitignore matched
sweep/runs; now only the top-level runs/ is ignored) keeps its row; report.md says how many
such rows its tables leave out. To train the rest:

  mkdir -p runs/literature_2d && cp -rn experiments/literature_2d/sweep/. runs/literature_2d/
  python -m gan_jax.main --config=experiments/literature_2d/config.py --workdir=runs/literature_2d
"""

import csv
import importlib.util
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from gan_jax.loop import sweep  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.results import report  # noqa: E402

KEPT = os.path.join(HERE, "sweep")


def left_out(folder: str, names: list[str]) -> list[str]:
    """What is not kept (the repository holds 180 runs): tensorboard events (the numbers of
    metrics.jsonl again), figures (the report draws its own), and every saved sample file but
    the newest (the report's final-samples figure reads that one)."""
    if os.path.basename(folder) == "samples":
        saved = sorted(name for name in names if name.startswith("step_"))
        return [name for name in names if name not in saved[-1:]]
    return [name for name in names if name == "tensorboard"]


def sweep_config():
    spec = importlib.util.spec_from_file_location("literature_2d", os.path.join(HERE, "config.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config()


def rows_without_folders(kept: str, runs) -> list[dict]:
    """The rows of `kept`'s results.csv whose run has no finished folder there: runs whose
    numbers are kept but whose folders are not (before session 14 a `runs/` pattern in
    .gitignore kept every run folder of sweep/ out of the repository)."""
    path = os.path.join(kept, "results.csv")
    if not os.path.exists(path):
        return []
    with_folder = {run.name for run in runs if sweep.is_finished(kept, run)}
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f) if row["run"] not in with_folder]


def merge_rows(kept: str, runs, rows_only: list[dict]) -> None:
    """Adds `rows_only` to the results.csv that the report just wrote from the run folders, in
    the sweep's run order, and says in report.md that its tables and plots leave them out."""
    path = os.path.join(kept, "results.csv")
    rows = []
    if os.path.exists(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    order = {run.name: i for i, run in enumerate(runs)}
    rows = sorted(rows + rows_only, key=lambda row: order.get(row["run"], len(order)))
    wd.write_csv(path, rows)
    report_path = os.path.join(kept, "report.md")
    with open(report_path) as f:
        text = f.read()
    wd.write_text(
        report_path,
        text + f"\n{len(rows_only)} more finished runs are in results.csv as rows only (their "
        "folders were not kept), so the tables and plots above leave them out; "
        "`python -m gan_jax.compare` on results.csv reads all of them.\n",
    )


def keep(config, sources: list[str], kept: str) -> list[str]:
    """Copies the finished runs of the sweep `config` from the workdirs `sources` into the
    sweep workdir `kept` (made for `config` if new) and reports them there (results.csv,
    report.md, plots); returns the names of the runs newly copied. Rows of results.csv whose
    run has no folder in `kept` (and none in `sources`) stay in results.csv."""
    runs = sweep.expand(config)
    wd.prepare(kept, config, "sweep", overwrite=False)
    kept_rows = {row["run"]: row for row in rows_without_folders(kept, runs)}
    copied = []
    for run in runs:
        target = sweep.run_dir(kept, run)
        if sweep.is_finished(kept, run):
            continue
        for source in sources:
            if sweep.is_finished(source, run):
                if os.path.exists(target):
                    shutil.rmtree(target)
                shutil.copytree(sweep.run_dir(source, run), target, ignore=left_out)
                copied.append(run.name)
                break
    rows_only = [row for name, row in kept_rows.items() if name not in copied]
    if report.write_sweep_report(config, kept) and rows_only:
        merge_rows(kept, runs, rows_only)
    return copied


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    missing = [source for source in argv if not os.path.isdir(source)]
    if missing:
        print(f"keep.py: no sweep workdir at {', '.join(missing)}", file=sys.stderr)
        return 2
    config = sweep_config()
    copied = keep(config, argv, KEPT)
    finished = len(sweep.finished_runs(config, KEPT))
    total = len(sweep.expand(config))
    print(f"kept {len(copied)} new finished run(s); {finished} of {total} in {KEPT}")
    rows_only = rows_without_folders(KEPT, sweep.expand(config))
    if rows_only:
        print(f"{len(rows_only)} more run(s) in results.csv as rows only (no folder kept)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
