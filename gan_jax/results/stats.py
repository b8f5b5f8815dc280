"""Seed statistics: how sure is "variant A beats variant B"? Thin wrappers over rliable and scipy.

GAN results swing with the seed, so every aggregate carries an interval. Following Agarwal et
al. 2021 ("Deep Reinforcement Learning at the Edge of the Statistical Precipice", NeurIPS; the
`rliable` package), intervals are percentile *stratified bootstrap* confidence intervals over
seeds, the robust aggregate is the *interquartile mean* (IQM: the mean of the middle 50% of the
seeds) and "how often is A better" is the *probability of improvement*

    P(X > Y) = 1/(n m) sum_i sum_j S(x_i, y_j),  S = 1 if x_i > y_j, 1/2 if equal, 0 otherwise,

the Mann-Whitney U statistic over n m (Agarwal et al. 2021, Sec. 4.3). The test of "A and B come
from one distribution" is the two-sided Mann-Whitney U test of `scipy.stats.mannwhitneyu`
(rank-based: no normality assumption, fits 3-10 seeds of a bounded metric like modes covered).

Inputs are the per-seed values of one metric (a sequence of finite floats); one data set is one
"task" in rliable's (runs x tasks) layout. rliable draws its resamples from NumPy's global random
state, so each function seeds it (and restores it afterwards): the same values and `seed` give the
same interval.
"""

import contextlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import scipy.stats
from rliable import library as rly
from rliable import metrics as rly_metrics

CONFIDENCE = 0.95
REPS = 2_000  # bootstrap resamples; Agarwal et al. use 2,000 for profiles, 50,000 for final CIs
TEST_NAME = "two-sided Mann-Whitney U test (scipy.stats.mannwhitneyu)"
IQM_MIN_SEEDS = 4  # with fewer, trimming a quarter from each end removes nothing: IQM = mean


class Interval(NamedTuple):
    """A point estimate with its bootstrap confidence interval [low, high]."""

    estimate: float
    low: float
    high: float


@contextlib.contextmanager
def _seeded(seed: int):
    """NumPy's global random state seeded for the block and restored after it (rliable's
    bootstrap classes draw their indices with `np.random.choice`)."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():  # arch warns about its RandomState default
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        np.random.set_state(state)


def _column(values: Sequence[float]) -> np.ndarray:
    """Per-seed values as rliable's (num_runs, num_tasks=1) score matrix."""
    array = np.asarray(values, dtype=float).reshape(-1, 1)
    if not len(array) or not np.all(np.isfinite(array)):
        raise ValueError(f"need one or more finite values, got {list(values)!r}")
    return array


def _interval(scores, func: Callable, reps: int, seed: int) -> Interval:
    """rliable's stratified bootstrap CI of `func(*scores)` (one array, or a list of arrays
    resampled independently)."""
    with _seeded(seed):
        point, interval = rly.get_interval_estimates(
            {"x": scores},
            lambda *s: np.atleast_1d(func(*s)),
            reps=reps,
            confidence_interval_size=CONFIDENCE,
        )
    low, high = np.asarray(interval["x"]).reshape(2)
    return Interval(float(np.asarray(point["x"]).reshape(())), float(low), float(high))


def mean_ci(values: Sequence[float], *, reps: int = REPS, seed: int = 0) -> Interval:
    """The mean over seeds with its 95% stratified bootstrap CI (Agarwal et al. 2021)."""
    return _interval(_column(values), rly_metrics.aggregate_mean, reps, seed)


def iqm_ci(values: Sequence[float], *, reps: int = REPS, seed: int = 0) -> Interval:
    """The interquartile mean (25% trimmed from each end; `rliable.metrics.aggregate_iqm`) with
    its 95% stratified bootstrap CI (Agarwal et al. 2021, Sec. 4.2)."""
    return _interval(_column(values), rly_metrics.aggregate_iqm, reps, seed)


def _oriented(values: Sequence[float], higher_is_better: bool) -> np.ndarray:
    column = _column(values)
    return column if higher_is_better else -column


def difference_ci(
    x: Sequence[float], y: Sequence[float], *, reps: int = REPS, seed: int = 0
) -> Interval:
    """mean(x) - mean(y) with its 95% CI, x and y resampled independently (rliable's
    `StratifiedIndependentBootstrap`)."""
    return _interval(
        [_column(x), _column(y)],
        lambda a, b: rly_metrics.aggregate_mean(a) - rly_metrics.aggregate_mean(b),
        reps,
        seed,
    )


def improvement_ci(
    x: Sequence[float],
    y: Sequence[float],
    *,
    higher_is_better: bool = True,
    reps: int = REPS,
    seed: int = 0,
) -> Interval:
    """P(a seed of X scores better than a seed of Y), ties counting one half, with its 95% CI:
    `rliable.metrics.probability_of_improvement` under the independent stratified bootstrap
    (Agarwal et al. 2021, Sec. 4.3). 0.5 = no difference; for a metric where lower is better,
    "better" means lower."""
    return _interval(
        [_oriented(x, higher_is_better), _oriented(y, higher_is_better)],
        rly_metrics.probability_of_improvement,
        reps,
        seed,
    )


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """The p-value of the two-sided Mann-Whitney U test that x and y come from one distribution
    (`scipy.stats.mannwhitneyu`, method "auto": exact for small samples without ties, else the
    normal approximation with tie correction). 1.0 when every value of both is equal."""
    x, y = _column(x)[:, 0], _column(y)[:, 0]
    if np.all(np.concatenate([x, y]) == x[0]):
        return 1.0  # no ranks to compare; scipy's normal approximation would divide by zero
    return float(scipy.stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def pointwise_mean_ci(
    curves: np.ndarray, *, reps: int = REPS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds at each eval of `curves` (seeds x evals, NaN where a seed has no
    value) and its pointwise 95% stratified bootstrap CI: (mean, low, high), each (evals,)."""
    curves = np.asarray(curves, dtype=float)

    def nanmean(scores):
        with warnings.catch_warnings():  # an eval where every resampled seed is NaN stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(scores, axis=0)

    with _seeded(seed):
        point, interval = rly.get_interval_estimates(
            {"x": curves}, nanmean, reps=reps, confidence_interval_size=CONFIDENCE
        )
    low, high = np.asarray(interval["x"])
    return np.asarray(point["x"]), low, high


def performance_profile(
    values: Mapping[str, Sequence[float]],
    taus: Sequence[float],
    *,
    reps: int = REPS,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Score distributions (Agarwal et al. 2021, Sec. 4.1): for each name, the fraction of its
    seeds scoring >= tau at every tau, with a pointwise 95% bootstrap band, via
    `rliable.library.create_performance_profile`: {name: (fraction, low, high)}."""
    taus = np.asarray(taus, dtype=float)

    def at_least(scores, tau_list):
        return np.array([np.mean(scores >= tau) for tau in tau_list])

    scores = {name: _column(v) for name, v in values.items()}
    with _seeded(seed):
        profiles, cis = rly.create_performance_profile(
            scores,
            taus,
            custom_profile_func=at_least,
            reps=reps,
            confidence_interval_size=CONFIDENCE,
        )
    return {name: (profiles[name], *np.asarray(cis[name])) for name in scores}


class Versus(NamedTuple):
    """A variant against a baseline on one metric."""

    difference: Interval  # mean(variant) - mean(baseline), with its 95% CI
    improvement: Interval  # P(a variant seed beats a baseline seed), with its 95% CI
    p_value: float  # two-sided Mann-Whitney U


def versus(
    x: Sequence[float],
    baseline: Sequence[float],
    *,
    higher_is_better: bool = True,
    reps: int = REPS,
    seed: int = 0,
) -> Versus:
    """Difference of means, probability of improvement (Agarwal et al. 2021) and the
    Mann-Whitney p-value of the seeds `x` against the seeds of `baseline`."""
    return Versus(
        difference_ci(x, baseline, reps=reps, seed=seed),
        improvement_ci(x, baseline, higher_is_better=higher_is_better, reps=reps, seed=seed),
        mann_whitney_p(x, baseline),
    )
