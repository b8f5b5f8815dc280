"""Learning curves of a (possibly unfinished) paper_tables sweep beside PacGAN's Table 1.

  python experiments/paper_tables/curves.py runs/paper_tables

Reads every run's metrics.jsonl as it stands (an unfinished sweep too), prints per method and
data set the mean ± standard error over seeds of modes, high-quality % and reverse KL at a few
evals, and the first step at which the mean HQ % passes 90; writes curves.png beside itself.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from gan_jax.loop import workdir as wd  # noqa: E402

# PacGAN Table 1 (mean ± standard error over 10 trials, 400,000 steps).
PUBLISHED = {
    ("ring", "GAN"): "6.3 ± 0.5 / 98.2 ± 0.2 / 0.45 ± 0.09",
    ("ring", "PacGAN2"): "7.9 ± 0.1 / 95.6 ± 2.0 / 0.07 ± 0.03",
    ("ring", "PacGAN4"): "7.8 ± 0.1 / 95.9 ± 1.4 / 0.07 ± 0.02",
    ("grid", "GAN"): "17.3 ± 0.8 / 94.8 ± 0.7 / 0.70 ± 0.07",
    ("grid", "PacGAN4"): "24.8 ± 0.2 / 93.6 ± 0.6 / 0.04 ± 0.01",
}
METRICS = ("modes_covered", "high_quality_pct", "reverse_kl")


def method(name: str) -> tuple[str, str]:
    """("ring", "PacGAN2") from a run name "config=paper.pacgan_ring:2,seed=3"."""
    config = name.split(",")[0].removeprefix("config=paper.pacgan_")
    data, _, pack = config.partition(":")
    return data, f"PacGAN{pack}" if pack else "GAN"


def load(sweep: str) -> dict:
    """{(data, method): {step: {metric: [value per seed]}}} from every run folder."""
    curves: dict = {}
    for folder in wd.sweep_runs(sweep):
        run = os.path.join(sweep, "runs", folder)
        name = wd.marker(run).get("name", folder)
        for row in wd.read_metrics(os.path.join(run, wd.METRICS)):
            at = curves.setdefault(method(name), {}).setdefault(row["step"], {})
            for metric in METRICS:
                at.setdefault(metric, []).append(row.get(metric))
    return curves


def summary(values) -> str:
    values = np.asarray([v for v in values if v is not None], float)
    if not len(values):
        return "n/a"
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():.2f} ± {sem:.2f}"


def main(sweep: str) -> None:
    curves = load(sweep)
    print(
        "| data | method | step | seeds | modes | HQ % | reverse KL | first step mean HQ > 90 % "
        "| PacGAN Table 1 (400k steps) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (data, name), steps in sorted(curves.items()):
        ordered = sorted(steps)
        hq = {s: [v for v in steps[s]["high_quality_pct"] if v is not None] for s in ordered}
        # Step 0 excluded: an untrained G sits on the grid's centre mode, all "high quality".
        passed = next((s for s in ordered[1:] if hq[s] and np.mean(hq[s]) > 90), None)
        for step in [s for s in ordered if s in (ordered[len(ordered) // 2], ordered[-1])]:
            at = steps[step]
            print(
                f"| {data} | {name} | {step} | {len(at['modes_covered'])} | "
                f"{summary(at['modes_covered'])} | {summary(at['high_quality_pct'])} | "
                f"{summary(at['reverse_kl'])} | {passed if passed is not None else 'not yet'} | "
                f"{PUBLISHED.get((data, name), '')} |"
            )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), squeeze=False)
    for row, data in enumerate(("ring", "grid")):
        for col, metric in enumerate(METRICS):
            ax = axes[row, col]
            for (d, name), steps in sorted(curves.items()):
                if d != data:
                    continue
                ordered = sorted(steps)
                kept = {s: [v for v in steps[s][metric] if v is not None] for s in ordered}
                xs = [s for s in ordered if kept[s]]
                ax.plot(xs, [np.mean(kept[s]) for s in xs], label=name)
            ax.set_title(f"{data}: {metric}")
            ax.set_xlabel("step")
            if ax.get_lines():
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(os.path.dirname(os.path.abspath(__file__)), "curves.png"), dpi=90)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "runs", "paper_tables"))
