"""Grid step 21 (issue 23, item 3): a finished sweep's samplers re-read with another number of
candidates per sample over the whole last fifth of training, from the checkpoints
`search/keep_checkpoints.sh` kept, without retraining (README, grid step 20).

Each kept step is restored per run through a view of the sweep (links in a scratch folder: the
sweep's run folders, and a checkpoint folder holding only that step), and read by
`ratio_classifier_check.run_rows` (the run's eval program with DRS and MH-GAN over a classifier fit
to G at that step). Every (step, run) row is appended to OUT as one JSON line as soon as it is
measured, and rows already there are skipped, so the same command resumes. At the end it prints,
per sampler, the final step's modes, HQ and KL (mean ± s.e.), the runs with every mode at every kept
step, and the grid targets met, as `recipe.py` does for a sweep's own evals.

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

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ratio_classifier_check import run_rows  # noqa: E402
from recipe import TARGETS  # noqa: E402

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


def summary(rows: list[dict], num_modes: int) -> None:
    steps = sorted({r["step"] for r in rows})
    runs = sorted({r["run"] for r in rows})
    final = steps[-1]
    print(f"{len(runs)} runs, steps {steps[0]}-{final} ({len(steps)} kept)")
    print("| G | modes | all modes | HQ % | reverse KL | all modes at every kept step | targets |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    target = TARGETS["grid"]
    for label in dict.fromkeys(r["label"] for r in rows if not r["label"].startswith("ceiling")):
        at = {(r["step"], r["run"]): r for r in rows if r["label"] == label}
        finals = [at[(final, run)] for run in runs if (final, run) in at]
        modes, hq, kl = (np.array([r[k] for r in finals]) for k in ("modes", "hq", "kl"))
        steady = sum(
            all((s, run) in at and at[(s, run)]["modes"] == num_modes for s in steps)
            for run in runs
        )
        sem = lambda v: v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0  # noqa: E731
        met = [
            modes.mean() >= target["modes"],
            hq.mean() >= target["hq"],
            kl.mean() <= target["kl"],
            steady == len(runs),
        ]
        print(
            f"| {label} | {modes.mean():.2f} ± {sem(modes):.2f} | "
            f"{int(np.sum(modes == num_modes))} of {len(finals)} | "
            f"{hq.mean():.1f} ± {sem(hq):.1f} | "
            f"{kl.mean():.3f} ± {sem(kl):.3f} | {steady} of {len(runs)} | "
            + " / ".join("yes" if m else "no" for m in met)
            + " |"
        )


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
    summary(done, num_modes=25)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: last_fifth_check.py SWEEP KEPT_FOLDER CANDIDATES OUT.jsonl")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
