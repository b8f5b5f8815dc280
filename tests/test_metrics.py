import itertools

import jax
import numpy as np
import pytest

from gan_jax.metrics import mixture_metrics
from gan_jax.metrics.mixture import lowest_reverse_kl
from gan_jax.parts import data

RING = data.make_dataset("ring")
metrics = jax.jit(lambda s: mixture_metrics(s, RING.centers, RING.std))


def test_samples_on_every_mode_score_perfectly():
    samples = np.repeat(RING.centers, 10, axis=0)
    m = metrics(samples)
    assert m["modes_covered"] == 8
    np.testing.assert_allclose(m["high_quality_pct"], 100.0)
    np.testing.assert_allclose(m["reverse_kl"], 0.0, atol=1e-6)
    np.testing.assert_array_equal(m["mode_histogram"], np.full(8, 10))


def test_collapse_to_one_mode_has_kl_log_8():
    m = metrics(np.repeat(RING.centers[:1], 50, axis=0))
    assert m["modes_covered"] == 1
    np.testing.assert_allclose(m["reverse_kl"], np.log(8), rtol=1e-6)


def test_high_quality_threshold_is_three_std():
    inside = RING.centers[0] + np.array([2.9 * RING.std, 0.0])
    outside = RING.centers[1] + np.array([0.0, 3.1 * RING.std])
    m = metrics(np.stack([inside, outside]).astype(np.float32))
    np.testing.assert_allclose(m["high_quality_pct"], 50.0)
    assert m["modes_covered"] == 1  # the low-quality sample covers nothing


def test_two_modes_unevenly_gives_the_hand_computed_kl():
    samples = np.concatenate(
        [np.repeat(RING.centers[:1], 30, 0), np.repeat(RING.centers[3:4], 10, 0)]
    )
    p = np.array([0.75, 0.25])
    m = metrics(samples)
    np.testing.assert_allclose(m["reverse_kl"], np.sum(p * np.log(p * 8)), rtol=1e-5)
    assert m["modes_covered"] == 2


def test_no_high_quality_sample_makes_kl_undefined():
    m = metrics(np.zeros((10, 2), np.float32))  # the ring's centre: far from every mode
    assert m["modes_covered"] == 0 and m["high_quality_pct"] == 0
    assert np.isnan(m["reverse_kl"])


def _brute_force_lowest_kl(counts, total):
    """The lowest reverse KL over every integer histogram h <= counts with sum h = total."""
    best = np.inf
    for h in itertools.product(*(range(c + 1) for c in counts)):
        if sum(h) == total:
            p = np.asarray(h, float) / total
            p = p[p > 0]
            best = min(best, float(np.sum(p * np.log(p * len(counts)))))
    return best


@pytest.mark.parametrize(
    "counts,total", [((9, 1, 5), 9), ((2, 7, 7, 3), 13), ((0, 6, 6), 6), ((4, 4, 4), 6)]
)
def test_lowest_reverse_kl_is_the_best_integer_selection_when_the_level_is_whole(counts, total):
    # With these counts the water level is a whole number, so the continuous optimum is an integer
    # histogram and an exhaustive search over selections finds the same KL.
    np.testing.assert_allclose(
        lowest_reverse_kl(counts, total), _brute_force_lowest_kl(counts, total), atol=1e-12
    )


def test_lowest_reverse_kl_bounds_integer_selections_and_edge_cases():
    # 6 of (5, 1, 5): the level is 2.5, no integer histogram reaches it; the bound lies below.
    assert lowest_reverse_kl((5, 1, 5), 6) < _brute_force_lowest_kl((5, 1, 5), 6)
    assert lowest_reverse_kl((3, 3, 3), 9) == pytest.approx(0.0, abs=1e-12)  # a balanced pool
    assert lowest_reverse_kl((1, 1, 1), 4) == np.inf  # too few high-quality samples
    with pytest.raises(ValueError, match="num_high_quality=0 must be >= 1"):
        lowest_reverse_kl((1, 1, 1), 0)
    # One mode only: every sample there, KL = log M.
    assert lowest_reverse_kl((10, 0, 0), 4) == pytest.approx(np.log(3))
