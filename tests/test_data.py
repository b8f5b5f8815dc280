import jax
import numpy as np
import pytest

from gan_jax import data


def test_ring_has_8_modes_on_radius_2():
    ring = data.make_dataset("ring")
    assert ring.centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0, rtol=1e-6)
    assert ring.std == 0.02
    # consecutive modes are 45 degrees apart
    angles = np.sort(np.mod(np.arctan2(ring.centers[:, 1], ring.centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), np.pi / 4, rtol=1e-5)


def test_grid_has_25_modes_spaced_2():
    grid = data.make_dataset("grid")
    assert grid.centers.shape == (25, 2)
    assert grid.std == 0.05
    np.testing.assert_allclose(sorted(set(grid.centers[:, 0].tolist())), [-4, -2, 0, 2, 4])
    np.testing.assert_allclose(grid.centers.mean(0), 0.0, atol=1e-6)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_are_uniform_over_modes_with_the_stated_std(name):
    dataset = data.make_dataset(name)
    samples = np.asarray(jax.jit(dataset.sample, static_argnums=1)(jax.random.PRNGKey(0), 20_000))
    assert samples.shape == (20_000, 2)
    dist = np.linalg.norm(samples[:, None] - dataset.centers[None], axis=-1)
    nearest = dist.argmin(1)
    counts = np.bincount(nearest, minlength=dataset.num_modes)
    expected = 20_000 / dataset.num_modes
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    offsets = samples - dataset.centers[nearest]
    np.testing.assert_allclose(offsets.std(0), dataset.std, rtol=0.05)


def test_unknown_dataset_names_the_choices():
    with pytest.raises(
        ValueError, match=r"data.name='moons' is unknown; choose one of \[.*'grid'.*'ring'.*\]"
    ):
        data.make_dataset("moons")
