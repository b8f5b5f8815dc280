"""Grid step 21 (issue 23, item 3): a finished sweep's samplers re-read with another number of
candidates per sample over the whole last fifth of training, from the checkpoints its runs kept,
without retraining (README, grid step 20).

Every checkpoint of the last fifth (`gan_jax.checkpoint_steps`: the steps from 0.8 × num_steps on;
a sweep trained with `keep_checkpoints_over_last=0.2` keeps them all) is restored per run
(`gan_jax.restore(run, step=...)`, verified against its digest) and read by
`ratio_classifier_check.run_rows` (the run's eval program with DRS and MH-GAN over a classifier fit
to G at that step). Every (step, run) row is appended to OUT as one JSON line as soon as it is
measured (the final step first, as it alone decides modes, HQ and KL), and rows already there are
skipped, so the same command resumes. At the end it prints `recipe.py`'s table of them
(`recipe.rows_of`: the final step's modes, HQ and KL with 95 % CIs, the runs with every mode at
every kept step of the last fifth, the grid targets met); its wall-time column reads "–", as
checkpoints carry no timing.

  python experiments/paper_tables/last_fifth_check.py runs/search/probe_grid_ratio_classifier \\
      1000 runs/search/last_fifth_1000.jsonl [seed=4 ...]

Runs named after OUT (e.g. seed=4) are the only ones read this time: a run whose steadiness
decides the rule can be read before the others (the table then covers the rows there are).

Step 21's rule, fixed before it ran (session 22): its MH-GAN or DRS row at 1,000 candidates on
seeds 0-9 goes on to seeds 100-109 (the confirmation sweep's kept checkpoints, the same command)
if it meets more grid targets than step 20's MH-GAN row on seeds 0-9 (two: modes and HQ) or as
many with at least as many modes, a higher HQ and a lower KL; a row that then confirms under the
same rule replaces `configs/best_grid.py`, with `eval.sampler_candidates=1000`.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import recipe  # noqa: E402
from ratio_classifier_check import run_rows  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.loop.checkpoint import keep_from_step  # noqa: E402


def last_fifth_steps(run: str) -> list[int]:
    """The steps of the last fifth of `run` (from 0.8 × num_steps on) whose checkpoints it holds."""
    first = keep_from_step(gan_jax.load_config(run).num_steps, 0.2)
    return [step for step in gan_jax.checkpoint_steps(run) if step >= first]


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


def main(sweep: str, candidates: int, out: str, only: list[str] | None = None) -> None:
    done = []
    if os.path.exists(out):
        with open(out) as f:
            done = [json.loads(line) for line in f if line.strip()]
    seen = {(r["step"], r["run"]) for r in done}
    runs = only or wd.sweep_runs(sweep)
    steps_of = {run: last_fifth_steps(os.path.join(sweep, "runs", run)) for run in runs}
    steps = steps_of[runs[0]]
    for run, its_steps in steps_of.items():  # steadiness is read over the same steps in every run
        if its_steps != steps:
            sys.exit(
                f"{run} holds the last fifth's steps {its_steps}, {runs[0]} {steps}: read the "
                "runs with the same kept steps separately (name them after OUT)"
            )
    print(f"reading steps {', '.join(map(str, steps))} of {len(runs)} runs", flush=True)
    # The final step first: it alone decides modes, HQ and KL, so the rule can be read before the
    # earlier steps (steadiness only) are in.
    order = steps[-1:] + steps[:-1]
    with open(out, "a") as f:
        for step in order:
            for run in runs:
                if (step, run) in seen:
                    continue
                start = time.time()
                rows = run_rows(gan_jax.restore(os.path.join(sweep, "runs", run), step), candidates)
                for label, modes, hq, kl, rate in rows:
                    row = dict(step=step, run=run, label=label, modes=modes, hq=hq, kl=kl)
                    done.append(row | dict(acceptance=rate))
                    f.write(json.dumps(done[-1]) + "\n")
                f.flush()
                print(f"step {step} {run}: {time.time() - start:.0f} s", flush=True)
    summary(done)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: last_fifth_check.py SWEEP CANDIDATES OUT.jsonl [RUN ...]")
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:])
