"""Seed statistics: how sure is "variant A beats variant B"? rliable's estimators, vectorised, and
scipy.stats.

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
"task" in rliable's (runs x tasks) layout. The bootstrap is written here rather than called from
rliable because rliable (through arch) evaluates the statistic once per resample in Python: one
probability of improvement at 2,000 resamples took 3 s, and a report makes dozens. The resamples
are drawn as rliable draws them from NumPy's global state after `np.random.seed(seed)`, but from
a `RandomState(seed)` of their own (the same stream, no global state touched), so every interval
equals the one rliable computes (tests/test_stats.py checks each against rliable).
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

CONFIDENCE = 0.95
REPS = 2_000  # bootstrap resamples; Agarwal et al. use 2,000 for profiles, 50,000 for final CIs
TEST_NAME = "two-sided Mann-Whitney U test (scipy.stats.mannwhitneyu)"
IQM_MIN_SEEDS = 4  # with fewer, trimming a quarter from each end removes nothing: IQM = mean
_BLOCK_ELEMENTS = 1 << 22  # resampled values held at once (32 MB of float64)


class Interval(NamedTuple):
    """A point estimate with its bootstrap confidence interval [low, high]."""

    estimate: float
    low: float
    high: float


def _column(values: Sequence[float]) -> np.ndarray:
    """Per-seed values as rliable's (num_runs, num_tasks=1) score matrix."""
    array = np.asarray(values, dtype=float).reshape(-1, 1)
    if not len(array) or not np.all(np.isfinite(array)):
        raise ValueError(f"need one or more finite values, got {list(values)!r}")
    return array


def _resample_indices(
    shapes: Sequence[tuple[int, ...]], reps: int, rng: np.random.RandomState
) -> list[np.ndarray]:
    """Bootstrap indices for inputs of the given (runs, ...) shapes: one (reps, *shape) array
    each, index [r, i, j] naming the run drawn for row i, column j of resample r. Drawn in
    rliable's order (per resample, one `choice(runs, shape)` per input, in turn), so `rng` =
    RandomState(seed) gives rliable's resamples after `np.random.seed(seed)`."""
    if all(shape == shapes[0] for shape in shapes):  # one draw is the same stream, at once
        drawn = rng.choice(shapes[0][0], (reps, len(shapes), *shapes[0]), replace=True)
        return [drawn[:, i] for i in range(len(shapes))]
    indices = [np.empty((reps, *shape), dtype=np.int64) for shape in shapes]
    for r in range(reps):  # inputs of different sizes interleave their draws
        for index, shape in zip(indices, shapes, strict=True):
            index[r] = rng.choice(shape[0], shape, replace=True)
    return indices


def _interval(
    scores: Sequence[np.ndarray], statistic: Callable, reps: int, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The percentile stratified bootstrap CI of `statistic(*scores)`: (estimate, low, high).

    `scores` are (runs, tasks, ...) arrays resampled independently, each task (column) within
    its own runs (rliable's `StratifiedBootstrap` / `StratifiedIndependentBootstrap`).
    `statistic` maps arrays with a leading resample axis, (reps, runs, tasks, ...), to (reps, k).
    Hand-vectorised: rliable (through arch) calls its statistic once per resample in Python,
    and its probability of improvement runs scipy's Mann-Whitney test each time (3 s for one
    comparison at 2,000 resamples); here every resample is computed at once from the same draws,
    and the results equal rliable's (tests/test_stats.py).
    """
    shapes = [s.shape for s in scores]
    # Resamples in blocks of at most _BLOCK_ELEMENTS drawn values (the draws continue one
    # stream, so the blocks change nothing but the memory: curves of many seeds and evals).
    block = max(1, _BLOCK_ELEMENTS // sum(int(np.prod(shape)) for shape in shapes))
    results = []
    for start in range(0, reps, block):
        size = min(block, reps - start)
        indices = _resample_indices(shapes, size, rng)
        resampled = [
            s[(index, *np.ix_(*[np.arange(n) for n in s.shape[1:]]))]
            for s, index in zip(scores, indices, strict=True)
        ]
        results.append(np.asarray(statistic(*resampled), dtype=float).reshape(size, -1))
    results = np.concatenate(results)
    estimate = np.asarray(statistic(*[s[None] for s in scores]), dtype=float).reshape(-1)
    # arch's percentile interval, to the last bit: np.percentile of each statistic's resamples.
    alpha = (1.0 - CONFIDENCE) / 2
    percentiles = [100 * alpha, 100 * (1.0 - alpha)]
    low, high = np.array([np.percentile(column, percentiles) for column in results.T]).T
    return estimate, low, high


def _scalar_interval(scores, statistic, reps: int, seed: int) -> Interval:
    estimate, low, high = _interval(scores, statistic, reps, np.random.RandomState(seed))
    return Interval(float(estimate[0]), float(low[0]), float(high[0]))


def _mean(scores: np.ndarray) -> np.ndarray:
    """rliable's `aggregate_mean` per resample: (reps, runs, 1) -> (reps,)."""
    return np.mean(np.mean(scores, axis=1), axis=-1)


def _iqm(scores: np.ndarray) -> np.ndarray:
    """rliable's `aggregate_iqm` (scipy's 25% trimmed mean of every score) per resample."""
    import scipy.stats  # here: importing scipy.stats takes 1-2 s, which a sweep's report
    # (means and their intervals only) would pay in every `gan_jax.main` process

    return scipy.stats.trim_mean(scores.reshape(len(scores), -1), 0.25, axis=1)


def _probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rliable's `probability_of_improvement` (one task) per resample: the Mann-Whitney U of
    x over y, divided by the n m pairs. (reps, n, 1), (reps, m, 1) -> (reps,)."""
    x, y = x[:, :, None, 0], y[:, None, :, 0]
    wins = np.sum(x > y, axis=(1, 2)) + 0.5 * np.sum(x == y, axis=(1, 2))
    return wins / (x.shape[1] * y.shape[2])


def mean_ci(values: Sequence[float], *, reps: int = REPS, seed: int = 0) -> Interval:
    """The mean over seeds with its 95% stratified bootstrap CI (Agarwal et al. 2021)."""
    return _scalar_interval([_column(values)], _mean, reps, seed)


def iqm_ci(values: Sequence[float], *, reps: int = REPS, seed: int = 0) -> Interval:
    """The interquartile mean (25% trimmed from each end, as `rliable.metrics.aggregate_iqm`)
    with its 95% stratified bootstrap CI (Agarwal et al. 2021, Sec. 4.2)."""
    return _scalar_interval([_column(values)], _iqm, reps, seed)


def _oriented(values: Sequence[float], higher_is_better: bool) -> np.ndarray:
    column = _column(values)
    return column if higher_is_better else -column


def difference_ci(
    x: Sequence[float], y: Sequence[float], *, reps: int = REPS, seed: int = 0
) -> Interval:
    """mean(x) - mean(y) with its 95% CI, x and y resampled independently (as rliable's
    `StratifiedIndependentBootstrap`)."""
    return _scalar_interval([_column(x), _column(y)], lambda a, b: _mean(a) - _mean(b), reps, seed)


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
    return _scalar_interval(
        [_oriented(x, higher_is_better), _oriented(y, higher_is_better)],
        _probability_of_improvement,
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
    import scipy.stats  # here, not at the top: see `_iqm`

    return float(scipy.stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def pointwise_mean_ci(
    curves: np.ndarray, *, reps: int = REPS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds at each eval of `curves` (seeds x evals, NaN where a seed has no
    value) and its pointwise 95% stratified bootstrap CI: (mean, low, high), each (evals,).
    Each eval is a task of rliable's layout, its seeds resampled on their own."""

    def nanmean(scores):
        with warnings.catch_warnings():  # an eval where every resampled seed is NaN stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(scores, axis=1)

    return _interval([np.asarray(curves, dtype=float)], nanmean, reps, np.random.RandomState(seed))


def performance_profile(
    values: Mapping[str, Sequence[float]],
    taus: Sequence[float],
    *,
    reps: int = REPS,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Score distributions (Agarwal et al. 2021, Sec. 4.1): for each name, the fraction of its
    seeds scoring >= tau at every tau, with a pointwise 95% bootstrap band, drawn as
    `rliable.library.create_performance_profile` draws them (one stream for all names, in
    order): {name: (fraction, low, high)}."""
    taus = np.asarray(taus, dtype=float)

    def at_least(scores):  # (reps, runs, 1) -> (reps, taus)
        return np.mean(scores[..., None] >= taus, axis=(1, 2))

    rng = np.random.RandomState(seed)
    return {name: _interval([_column(v)], at_least, reps, rng) for name, v in values.items()}


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
