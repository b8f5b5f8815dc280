import numpy as np
import pytest

from gan_jax.metrics.hopping import count_hops, dominant_modes, mean_occupancy_shift, occupancy

# A collapsed G cycling round a 4-mode ring: 0, 0, 1, (spread), 2, 3, (nothing), 0
HISTOGRAMS = [
    [10, 0, 0, 0],
    [9, 1, 0, 0],
    [0, 10, 0, 0],
    [3, 3, 2, 2],
    [0, 0, 8, 0],
    [0, 1, 0, 7],
    [0, 0, 0, 0],
    [6, 0, 0, 0],
]


def test_dominant_mode_needs_half_of_the_high_quality_samples():
    np.testing.assert_array_equal(dominant_modes(HISTOGRAMS), [0, 0, 1, -1, 2, 3, -1, 0])


def test_hops_count_switches_between_dominated_evals():
    assert count_hops(dominant_modes(HISTOGRAMS)) == 4  # 0->1, 1->2, 2->3, 3->0
    assert count_hops([2, 2, 2, -1, 2]) == 0
    assert count_hops([]) == 0


def test_occupancy_shift_is_zero_for_a_steady_spread_and_one_for_jumps():
    assert mean_occupancy_shift([[5, 5, 5, 5]] * 4) == pytest.approx(0.0)
    assert mean_occupancy_shift([[4, 0], [0, 4], [4, 0]]) == pytest.approx(1.0)
    assert np.isnan(mean_occupancy_shift([[0, 0], [3, 0]]))
    np.testing.assert_allclose(occupancy([[1, 3], [0, 0]]), [[0.25, 0.75], [0, 0]])
