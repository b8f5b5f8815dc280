"""Seed statistics: gan_jax's vectorised bootstrap against rliable's, in one process.

  python benchmarks/stats_speed.py

Times each estimator of `gan_jax.results.stats` and the same estimator called through rliable
(2,000 resamples, 10 seeds against 10; 10 against 7 where the draws interleave), checks that
the intervals are equal, and prints the median seconds of 5 calls and their ratio.
"""

import statistics
import time
import warnings

import numpy as np
from rliable import library as rly
from rliable import metrics as rly_metrics

from gan_jax.results import stats


def _median_seconds(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _rliable(scores, func):
    np.random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        point, interval = rly.get_interval_estimates({"k": scores}, func, reps=stats.REPS)
    return stats.Interval(float(np.squeeze(point["k"])), *np.asarray(interval["k"]).reshape(2))


def main():
    rng = np.random.RandomState(0)
    x, y, short = rng.normal(size=10), rng.normal(size=10), rng.normal(size=7)
    col = lambda v: np.reshape(v, (-1, 1))  # noqa: E731
    cases = {
        "mean CI (10 seeds)": (
            lambda: stats.mean_ci(x),
            lambda: _rliable(col(x), lambda s: np.array([rly_metrics.aggregate_mean(s)])),
        ),
        "IQM CI (10 seeds)": (
            lambda: stats.iqm_ci(x),
            lambda: _rliable(col(x), lambda s: np.array([rly_metrics.aggregate_iqm(s)])),
        ),
        "difference CI (10 vs 10)": (
            lambda: stats.difference_ci(x, y),
            lambda: _rliable([col(x), col(y)], lambda a, b: np.array([a.mean() - b.mean()])),
        ),
        "P(better) CI (10 vs 10)": (
            lambda: stats.improvement_ci(x, y),
            lambda: _rliable(
                [col(x), col(y)],
                lambda a, b: np.array([rly_metrics.probability_of_improvement(a, b)]),
            ),
        ),
        "P(better) CI (10 vs 7)": (
            lambda: stats.improvement_ci(x, short),
            lambda: _rliable(
                [col(x), col(short)],
                lambda a, b: np.array([rly_metrics.probability_of_improvement(a, b)]),
            ),
        ),
    }
    print("| estimator | gan_jax s | rliable s | rliable / gan_jax | equal |")
    print("| --- | --- | --- | --- | --- |")
    for name, (ours, theirs) in cases.items():
        ours_s, ours_result = _median_seconds(ours)
        theirs_s, theirs_result = _median_seconds(theirs, repeats=3)
        print(
            f"| {name} | {ours_s:.4f} | {theirs_s:.3f} | {theirs_s / ours_s:.0f}x | "
            f"{ours_result == theirs_result} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
