"""Grid step 21 (issue 23, item 3): a finished sweep's samplers re-read with another number of
candidates per sample over the whole last fifth of training, from the checkpoints
`search/keep_checkpoints.sh` kept, without retraining (README, grid step 20).

Each kept step is restored per run through a view of the sweep (links in a scratch folder: the
sweep's run folders, and a checkpoint folder holding only that step), and read by
`ratio_classifier_check.run_rows` (the run's eval program with DRS and MH-GAN over a classifier fit
to G at that step). Every (step, run) row is appended to OUT as one JSON line as soon as it is
measured, and rows already there are skipped, so the same command resumes. At the end it prints
`recipe.py`'s table of them (`recipe.rows_of`: the final step's modes, HQ and KL with 95 % CIs, the
runs with every mode at every kept step of the last fifth, the grid targets met); its wall-time
column reads 0, as kept checkpoints carry no timing.

  python experiments/paper_tables/last_fifth_check.py runs/search/probe_grid_ratio_classifier \\
      runs/search/kept_ratio_classifier 1000 runs/search/last_fifth_1000.jsonl

Step 21's rule, fixed before it ran (session 22): its MH-GAN or DRS row at 1,000 candidates on
seeds 0-9 goes on to seeds 100-109 (the confirmation sweep's kept checkpoints, the same command)
if it meets more grid targets than step 20's MH-GAN row on seeds 0-9 (two: modes and HQ) or as
many with at least as many modes, a higher HQ and a lower KL; a row that then confirms under the
same rule replaces `configs/best_grid.py`, with `eval.sampler_candidates=1000`.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import recipe  # noqa: E402
from ratio_classifier_check import run_rows  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402


def restore_at(sweep: str, kept: str, step: int, run: str, scratch: str):
    """The run `run` of `sweep` at the kept checkpoint `kept/<step>`."""
    view = os.path.join(scratch, str(step))
    if not os.path.isdir(view):
        os.makedirs(os.path.join(view, "runs"))
        for folder in wd.sweep_runs(sweep):
            target = os.path.abspath(os.path.join(sweep, "runs", folder))
            os.symlink(target, os.path.join(view, "runs", folder))
    pointer = wd.read_group(os.path.join(sweep, "runs", run))
    # The pointer is relative to the run folder; the view resolves it inside itself.
    checkpoints = os.path.normpath(os.path.join(view, "runs", run, pointer["checkpoint_dir"]))
    if not os.path.isdir(checkpoints):
        os.makedirs(checkpoints)
        os.symlink(
            os.path.abspath(os.path.join(kept, str(step))), os.path.join(checkpoints, str(step))
        )
    gan = gan_jax.restore(os.path.join(view, "runs", run))
    if gan.step != step:
        raise RuntimeError(f"{kept}/{step} restored step {gan.step}")
    return gan


def as_evals(rows: list[dict], num_modes: int) -> list[list[dict]]:
    """The rows of each run in the form of its metrics.jsonl evals (`recipe.load`): one dict per
    step with the raw G's metrics unprefixed, the EMA G's under "ema/" and each sampler's under
    "<sampler>/" (a label "mh, classifier, ..." is sampler "mh"); the ceiling rows are left out."""
    prefixes = {"raw G": "", "EMA G": "ema/"}
    evals: dict = {}
    for r in rows:
        if r["label"].startswith("ceiling"):
            continue
        prefix = prefixes.get(r["label"], r["label"].partition(",")[0] + "/")
        at = evals.setdefault(r["run"], {}).setdefault(
            r["step"], {"step": r["step"], "mode_histogram": [0] * num_modes}
        )
        for name, key in (
            ("modes", "modes_covered"),
            ("hq", "high_quality_pct"),
            ("kl", "reverse_kl"),
        ):
            at[f"{prefix}{key}"] = r[name]
    return [[by_step[s] for s in sorted(by_step)] for _, by_step in sorted(evals.items())]


def summary(rows: list[dict], num_modes: int = 25) -> None:
    """`recipe.py`'s table (final step, 95 % CIs, steadiness over the last fifth, targets met) of
    the rows measured so far."""
    print(recipe.HEADER)
    for line in recipe.rows_of("re-read", as_evals(rows, num_modes), "grid"):
        print(line)


def main(sweep: str, kept: str, candidates: int, out: str) -> None:
    done = []
    if os.path.exists(out):
        with open(out) as f:
            done = [json.loads(line) for line in f if line.strip()]
    seen = {(r["step"], r["run"]) for r in done}
    steps = sorted(int(s) for s in os.listdir(kept) if s.isdigit())
    runs = wd.sweep_runs(sweep)
    with tempfile.TemporaryDirectory() as scratch, open(out, "a") as f:
        for step in steps:
            for run in runs:
                if (step, run) in seen:
                    continue
                start = time.time()
                rows = run_rows(restore_at(sweep, kept, step, run, scratch), candidates)
                for label, modes, hq, kl, rate in rows:
                    row = dict(step=step, run=run, label=label, modes=modes, hq=hq, kl=kl)
                    done.append(row | dict(acceptance=rate))
                    f.write(json.dumps(done[-1]) + "\n")
                f.flush()
                print(f"step {step} {run}: {time.time() - start:.0f} s", flush=True)
    summary(done)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: last_fifth_check.py SWEEP KEPT_FOLDER CANDIDATES OUT.jsonl")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
