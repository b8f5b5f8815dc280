"""A recipe sweep's rows against the issue's targets (experiments/paper_tables/README.md).

  python experiments/paper_tables/recipe.py runs/search/ring_lr ring
  python experiments/paper_tables/recipe.py runs/confirm/ring ring
  python experiments/paper_tables/recipe.py runs/search/a runs/search/a_b grid  # one sweep, two
      # workdirs (one process per core): their runs are pooled by variant

Reads every run's metrics.jsonl as it stands (an unfinished sweep too) and prints, per variant
and for the raw G, its EMA and each sampler over the raw G and D (e.g. DRS): final modes, the
seeds with every mode, HQ %, reverse KL (mean ± standard error; the mean's 95 % stratified
bootstrap CI, `gan_jax.results.stats.mean_ci`), the seeds that kept every mode at every eval
over the last fifth of training, wall time per run, and whether each target is met.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.results import stats  # noqa: E402

# The issue's targets: PacGAN Table 1's best rows, to beat at <= 25,000 steps and batch <= 512.
TARGETS = {
    "ring": dict(all_modes_seeds=0.9, hq=95.0, kl=0.05),
    "grid": dict(modes=24.8, hq=93.0, kl=0.04),
}


def load(sweep: str) -> dict:
    """{variant: [rows of one seed's metrics.jsonl, ...]}."""
    variants: dict = {}
    for folder in wd.sweep_runs(sweep):
        run = os.path.join(sweep, "runs", folder)
        name = wd.marker(run).get("name", folder)
        variant = name.rpartition(",seed=")[0] or "base"
        rows = [r for r in wd.read_metrics(os.path.join(run, wd.METRICS)) if "modes_covered" in r]
        variants.setdefault(variant, []).append(rows)
    return variants


def _cell(values, digits) -> str:
    values = np.asarray(values, float)
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    ci = stats.mean_ci(values)
    return (
        f"{values.mean():.{digits}f} ± {sem:.{digits}f} [{ci.low:.{digits}f}, {ci.high:.{digits}f}]"
    )


def rows_of(variant: str, seeds: list, data: str) -> list[str]:
    num_modes = len(seeds[0][-1]["mode_histogram"])
    last_step = min(rows[-1]["step"] for rows in seeds)
    lines = []
    # The raw G, its EMA, and each sampler evaluated over the raw G and D (e.g. "drs/"), which
    # the targets allow when reported as such.
    samplers = sorted(
        key.partition("/")[0]
        for key in seeds[0][-1]
        if key.endswith("/modes_covered") and not key.startswith("ema/")
    )
    prefixes = [("", "raw G"), ("ema/", "EMA G")] + [
        (f"{s}/", f"raw G, {s} sampler") for s in samplers
    ]
    for prefix, which in prefixes:
        if f"{prefix}modes_covered" not in seeds[0][-1]:
            continue
        finals = [next(r for r in rows if r["step"] == last_step) for rows in seeds]
        modes = [r[f"{prefix}modes_covered"] for r in finals]
        hq = [r[f"{prefix}high_quality_pct"] for r in finals]
        kl = [
            r[f"{prefix}reverse_kl"] if r[f"{prefix}reverse_kl"] is not None else np.log(num_modes)
            for r in finals
        ]
        windows = [[r for r in rows if 0.8 * last_step <= r["step"] <= last_step] for rows in seeds]
        # A sampler evaluated only from `eval.samplers_from_step` on has no steadiness to read
        # when that step falls inside the last fifth.
        judged = all(f"{prefix}modes_covered" in r for window in windows for r in window)
        late = [
            judged and all(r[f"{prefix}modes_covered"] == num_modes for r in window)
            for window in windows
        ]
        all_modes = sum(m == num_modes for m in modes)
        target = TARGETS[data]
        met = [
            (
                all_modes >= target["all_modes_seeds"] * len(seeds)
                if "all_modes_seeds" in target
                else np.mean(modes) >= target["modes"]
            ),
            np.mean(hq) >= target["hq"],
            np.mean(kl) <= target["kl"],
            all(late),
        ]
        timed = any(r.get("steps_per_sec") for rows in seeds for r in rows)
        wall = np.mean(
            [
                sum(
                    (b["step"] - a["step"]) / b["steps_per_sec"]
                    for a, b in zip(rows, rows[1:], strict=False)
                    if b.get("steps_per_sec")
                )
                for rows in seeds
            ]
        )
        lines.append(
            f"| {variant} | {which} | {last_step} | {len(seeds)} | {_cell(modes, 2)} | "
            f"{all_modes} of {len(seeds)} | {_cell(hq, 1)} | {_cell(kl, 3)} | "
            + (f"{sum(late)} of {len(seeds)}" if judged else "– (not at every eval)")
            + (f" | {wall / 60:.0f} | " if timed else " | – | ")  # re-read checkpoints: no timing
            + " / ".join("yes" if m else "no" for m in met)
            + " |"
        )
    return lines


HEADER = (
    "| variant | G | step | seeds | modes (mean ± s.e. [95 % CI]) | all modes | HQ % | "
    "reverse KL | all modes at every eval of the last fifth | wall min / run (vmapped) | "
    "targets met (modes / HQ / KL / steady) |\n" + "| --- " * 11 + "|"
)


def main(sweeps: list[str], data: str) -> None:
    print(HEADER)
    pooled: dict = {}
    for sweep in sweeps:
        for variant, seeds in load(sweep).items():
            pooled.setdefault(variant, []).extend(seeds)
    for variant, seeds in sorted(pooled.items()):
        for line in rows_of(variant, seeds, data):
            print(line)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[-1] not in TARGETS:
        sys.exit(f"usage: recipe.py WORKDIR [WORKDIR ...] {'|'.join(TARGETS)}")
    main(sys.argv[1:-1], sys.argv[-1])
