import jax
import numpy as np

from gan_jax.metrics import mixture_metrics
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
