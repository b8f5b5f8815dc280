"""Seed statistics against rliable and scipy.stats called directly, and against hand counts.

`gan_jax.results.stats` vectorises rliable's bootstrap; rliable itself (a test dependency) is the
reference: the same seed must give the same interval, to the last bit."""

import math
import warnings

import numpy as np
import pytest
import scipy.stats
from rliable import library as rly
from rliable import metrics as rly_metrics

from gan_jax.results import stats

X = [7.0, 8.0, 8.0, 6.0, 8.0]  # modes covered of five seeds
Y = [4.0, 5.0, 3.0, 5.0, 6.0]
REPS = 500


def _rliable(scores, func, seed=0):
    """rliable called the documented way, after NumPy's global seed is set to `seed`."""
    np.random.seed(seed)
    with warnings.catch_warnings():  # arch warns about its RandomState default
        warnings.simplefilter("ignore", FutureWarning)
        point, interval = rly.get_interval_estimates({"k": scores}, func, reps=REPS)
    return float(np.squeeze(point["k"])), *np.asarray(interval["k"]).reshape(2)


def test_mean_iqm_and_difference_cis_equal_rliable_called_directly():
    column = np.asarray(X).reshape(-1, 1)
    mean = stats.mean_ci(X, reps=REPS)
    assert mean == _rliable(column, lambda s: np.array([rly_metrics.aggregate_mean(s)]))
    assert mean.estimate == pytest.approx(np.mean(X))
    assert mean.low <= mean.estimate <= mean.high
    iqm = stats.iqm_ci(X, reps=REPS)
    assert iqm.estimate == pytest.approx(scipy.stats.trim_mean(X, 0.25))  # 7, 8, 8 -> 23/3
    assert iqm.estimate == pytest.approx(23 / 3)
    assert iqm == _rliable(column, lambda s: np.array([rly_metrics.aggregate_iqm(s)]))
    pair = [column, np.asarray(Y).reshape(-1, 1)]
    difference = stats.difference_ci(X, Y, reps=REPS)
    direct = _rliable(pair, lambda a, b: np.array([a.mean() - b.mean()]))
    assert difference == direct
    assert difference.estimate == pytest.approx(np.mean(X) - np.mean(Y))


def test_mean_ci_agrees_with_scipy_bootstrap():
    """An independent implementation: scipy's percentile bootstrap of the mean gives the same
    interval up to Monte Carlo error."""
    values = np.random.RandomState(3).normal(10.0, 2.0, size=30)
    ours = stats.mean_ci(values, reps=4000)
    theirs = scipy.stats.bootstrap(
        (values,), np.mean, n_resamples=4000, method="percentile", random_state=0
    ).confidence_interval
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(ours.low - theirs.low) < 0.15 * se * 4
    assert abs(ours.high - theirs.high) < 0.15 * se * 4


def test_probability_of_improvement_counts_pairs_and_equals_rliable():
    # By hand: x = [1, 2, 3], y = [2, 3, 4, 5]: pairs with x > y: (3, 2); ties: (2, 2), (3, 3).
    # P = (1 + 2 / 2) / (3 * 4) = 1/6.
    poi = stats.improvement_ci([1, 2, 3], [2, 3, 4, 5], reps=REPS)
    assert poi.estimate == pytest.approx(1 / 6)
    assert 0.0 <= poi.low <= poi.estimate <= poi.high <= 1.0
    # Lower is better: a win is a lower value, so P becomes 1 - 1/6.
    lower = stats.improvement_ci([1, 2, 3], [2, 3, 4, 5], higher_is_better=False, reps=REPS)
    assert lower.estimate == pytest.approx(5 / 6)
    pair = [np.asarray(X).reshape(-1, 1), np.asarray(Y).reshape(-1, 1)]
    direct = _rliable(pair, lambda a, b: np.array([rly_metrics.probability_of_improvement(a, b)]))
    assert stats.improvement_ci(X, Y, reps=REPS) == direct
    # Every seed of X beats every seed of Y except (6 vs 6): (24 + 1/2) / 25.
    assert direct[0] == pytest.approx(24.5 / 25)


def test_mann_whitney_p_equals_scipy_and_the_exact_hand_value():
    # x entirely below y, 3 + 3 values: of the C(6, 3) = 20 equally likely rank splits, one is
    # as extreme on each side, so the exact two-sided p is 2 / 20.
    assert stats.mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    expected = scipy.stats.mannwhitneyu(X, Y, alternative="two-sided").pvalue
    assert stats.mann_whitney_p(X, Y) == pytest.approx(expected)
    assert stats.mann_whitney_p([8, 8], [8, 8, 8]) == 1.0  # nothing to rank


def test_versus_bundles_the_three_and_profile_counts_seeds_at_or_above_tau():
    versus = stats.versus(X, Y, reps=REPS)
    assert versus.difference.estimate == pytest.approx(np.mean(X) - np.mean(Y))
    assert versus.improvement.estimate == pytest.approx(24.5 / 25)
    assert versus.p_value < 0.05
    profile = stats.performance_profile({"a": [1, 2, 3], "b": [3, 3, 3]}, [0, 1, 2, 3, 4], reps=200)
    np.testing.assert_allclose(profile["a"][0], [1, 1, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(profile["b"][0], [1, 1, 1, 1, 0])
    fraction, low, high = profile["a"]
    assert np.all(low <= fraction) and np.all(fraction <= high)


def test_seeded_results_repeat_and_leave_numpys_global_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = stats.mean_ci(X, reps=REPS, seed=5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert stats.mean_ci(X, reps=REPS, seed=5) == first
    curves = np.array([[0.0, 4.0, 8.0], [0.0, 6.0, np.nan]])
    mean, low, high = stats.pointwise_mean_ci(curves, reps=200)
    np.testing.assert_allclose(mean, [0.0, 5.0, 8.0])
    assert low[1] <= 5.0 <= high[1]
    with pytest.raises(ValueError, match="finite"):
        stats.mean_ci([1.0, float("nan")])


@pytest.mark.parametrize("seed", [0, 7])
def test_every_estimator_equals_rliable_on_uneven_seed_counts(seed):
    """Random values, 7 seeds against 4, a second seed: each interval is rliable's exactly."""
    rng = np.random.RandomState(seed + 1)
    x, y = rng.randint(0, 9, size=7).astype(float), rng.normal(size=4)
    column, pair = x.reshape(-1, 1), [x.reshape(-1, 1), y.reshape(-1, 1)]
    assert stats.mean_ci(x, reps=REPS, seed=seed) == _rliable(
        column, lambda s: np.array([rly_metrics.aggregate_mean(s)]), seed
    )
    assert stats.iqm_ci(x, reps=REPS, seed=seed) == _rliable(
        column, lambda s: np.array([rly_metrics.aggregate_iqm(s)]), seed
    )
    assert stats.difference_ci(x, y, reps=REPS, seed=seed) == _rliable(
        pair, lambda a, b: np.array([a.mean() - b.mean()]), seed
    )
    assert stats.improvement_ci(x, y, reps=REPS, seed=seed) == _rliable(
        pair, lambda a, b: np.array([rly_metrics.probability_of_improvement(a, b)]), seed
    )


def test_pointwise_curves_and_profiles_equal_rliable():
    """Curves resample each eval's seeds on their own (an eval is a task), NaN where a seed has
    no value; profiles draw every name from one stream, in order."""
    curves = np.random.RandomState(3).normal(size=(5, 6))
    curves[1, 3] = np.nan

    def nanmean(scores):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(scores, axis=0)

    np.random.seed(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        point, interval = rly.get_interval_estimates({"k": curves}, nanmean, reps=REPS)
    mean, low, high = stats.pointwise_mean_ci(curves, reps=REPS, seed=2)
    np.testing.assert_array_equal(mean, point["k"])
    np.testing.assert_array_equal(np.stack([low, high]), interval["k"])

    values, taus = {"a": [1.0, 2.0, 3.0, 5.0], "b": [3.0, 3.0, 3.0]}, np.arange(5.0)
    np.random.seed(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        profiles, cis = rly.create_performance_profile(
            {k: np.reshape(v, (-1, 1)) for k, v in values.items()},
            taus,
            custom_profile_func=lambda s, t: np.array([np.mean(s >= tau) for tau in t]),
            reps=REPS,
        )
    ours = stats.performance_profile(values, taus, reps=REPS, seed=4)
    for name in values:
        np.testing.assert_array_equal(ours[name][0], profiles[name])
        np.testing.assert_array_equal(np.stack(ours[name][1:]), cis[name])


def test_resampling_in_blocks_changes_nothing(monkeypatch):
    """Large curves are resampled in blocks to bound memory; the draws continue one stream, so
    blocks of any size give the same intervals (here blocks of 2 and of 1 resamples)."""
    curves = np.random.RandomState(5).normal(size=(4, 3))
    whole = stats.pointwise_mean_ci(curves, reps=REPS, seed=1)
    pair = stats.improvement_ci(X, Y[:4], reps=REPS, seed=1)
    for elements in (24, 1):
        monkeypatch.setattr(stats, "_BLOCK_ELEMENTS", elements)
        np.testing.assert_array_equal(stats.pointwise_mean_ci(curves, reps=REPS, seed=1), whole)
        assert stats.improvement_ci(X, Y[:4], reps=REPS, seed=1) == pair
