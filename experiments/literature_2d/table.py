"""The README's table: each method's final modes, HQ % and reverse KL on the ring and the grid,
mean over seeds with its 95% bootstrap interval (`gan_jax.results.stats.mean_ci`, as compare's),
from the kept sweep's results.csv; DRS rows read the same runs through the sampler.

  python experiments/literature_2d/table.py [experiments/literature_2d/sweep/results.csv]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from configs import literature  # noqa: E402
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
    for method in [*literature.METHODS, *literature.GAN_PROBES]:
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


def main(argv):
    path = argv[0] if argv else os.path.join(HERE, "sweep", "results.csv")
    print("| method | seeds (ring / grid) | ring modes | ring HQ % | ring KL | grid modes | "
          "grid HQ % | grid KL |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows(read_csv(path))))


if __name__ == "__main__":
    main(sys.argv[1:])
