"""The README's tables, from the kept sweep (experiments/literature_2d/sweep):

1. each method's final modes, HQ % and reverse KL on the ring and the grid, mean over seeds with
   its 95% bootstrap interval (`gan_jax.results.stats.mean_ci`, as compare's), from results.csv;
   DRS rows read the same runs through the sampler;
2. the GAN against the unrolled GAN over training (the main README's "unrolled GAN on the
   ring"): besides the final numbers, each run's mean and minimum modes over its evals from
   step 5,000 on (from its metrics.jsonl) and its mode hops, each a mean over seeds with its
   interval.

  python experiments/literature_2d/table.py [experiments/literature_2d/sweep/results.csv]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from configs import literature  # noqa: E402
from gan_jax.loop.workdir import read_metrics  # noqa: E402
from gan_jax.results import stats  # noqa: E402
from gan_jax.results.load import read_csv  # noqa: E402

METRICS = (("modes_covered", "{:.1f}"), ("high_quality_pct", "{:.1f}"), ("reverse_kl", "{:.3f}"))


def cell(values, fmt) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    mean, low, high = stats.mean_ci(values)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def rows(results: list[dict]) -> list[str]:
    lines = []
    for method in [*literature.METHODS, *literature.GAN_PROBES, *literature.VEEGAN_PROBES]:
        for prefix, label in (("final_", method), ("final_drs/", f"{method} + DRS")):
            cells, seeds = [], []
            for data in literature.DATA:
                runs = [r for r in results if r["config"] == f"literature:{method}-{data}"]
                seeds.append(str(len(runs)) if runs else "-")
                for metric, fmt in METRICS:
                    cells.append(cell([r.get(prefix + metric) for r in runs], fmt) if runs else "-")
            if all(c in ("-", "n/a") for c in cells):
                continue
            lines.append(f"| {label} | {' / '.join(seeds)} | " + " | ".join(cells) + " |")
    return lines


OVER_EVALS_FROM = 5_000  # step from which an eval counts: past the first fifth of 25,000
OVER_TRAINING = ("gan", "unrolled")


def over_evals(run_dir: str, start: int = OVER_EVALS_FROM) -> tuple[float, int]:
    """Mean and minimum of a run's modes covered over its evals at steps >= `start`."""
    modes = [
        row["modes_covered"]
        for row in read_metrics(os.path.join(run_dir, "metrics.jsonl"))
        if row.get("step", -1) >= start and "modes_covered" in row
    ]
    return sum(modes) / len(modes), min(modes)


def training_rows(results: list[dict], sweep_dir: str) -> list[str]:
    """Table 2's rows: per method of `OVER_TRAINING` and data set with finished runs."""
    lines = []
    for data in literature.DATA:
        for method in OVER_TRAINING:
            runs = [r for r in results if r["config"] == f"literature:{method}-{data}"]
            if not runs:
                continue
            folders = [os.path.join(sweep_dir, "runs", r["run"]) for r in runs]
            missing = [f for f in folders if not os.path.exists(os.path.join(f, "metrics.jsonl"))]
            if missing:  # kept as results.csv rows only (keep.py): no evals to read
                print(
                    f"table.py: {method}-{data}: {len(missing)} of {len(runs)} runs have no "
                    "metrics.jsonl under runs/; its over-training row is left out",
                    file=sys.stderr,
                )
                continue
            evals = [over_evals(folder) for folder in folders]
            cells = [cell([r["final_" + m] for r in runs], f) for m, f in METRICS]
            fewest = min(low for _, low in evals)
            cells += [
                cell([mean for mean, _ in evals], "{:.2f}"),
                f"{cell([low for _, low in evals], '{:.1f}')}, fewest {fewest:.0f}",
                cell([r["mode_hops"] for r in runs], "{:.1f}"),
            ]
            lines.append(f"| {method} | {data} | {len(runs)} | " + " | ".join(cells) + " |")
    return lines


def main(argv):
    path = argv[0] if argv else os.path.join(HERE, "sweep", "results.csv")
    print(
        "| method | seeds (ring / grid) | ring modes | ring HQ % | ring KL | grid modes | "
        "grid HQ % | grid KL |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    results = read_csv(path)
    print("\n".join(rows(results)))
    print()
    print(
        "| method | data | seeds | modes (final) | HQ % (final) | reverse KL (final) | "
        f"mean modes over evals from step {OVER_EVALS_FROM:,} | min modes over those evals | "
        "mode hops |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(training_rows(results, os.path.dirname(os.path.abspath(path)))))


if __name__ == "__main__":
    main(sys.argv[1:])
