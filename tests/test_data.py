import jax
import numpy as np
import pytest

from gan_jax.parts import data


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


def test_pacgan_geometry_is_exact_from_the_config():
    """PacGAN's ring (radius 1, std 0.01) and grid (spacing 2, std 0.05) as config fields."""
    from configs import default

    config = default.get_config()
    config.data.radius, config.data.std = 1.0, 0.01
    ring = data.from_config(config.data)
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 1.0, rtol=1e-6)
    assert ring.std == 0.01 and ring.points is None
    config.data.name, config.data.radius, config.data.std, config.data.spacing = (
        "grid",
        None,
        None,
        1.5,
    )
    grid = data.from_config(config.data)
    np.testing.assert_allclose(sorted(set(grid.centers[:, 0].tolist())), [-3, -1.5, 0, 1.5, 3])
    assert grid.std == 0.05


def test_a_finite_data_set_draws_batches_only_from_its_points():
    finite = data.make_dataset("ring", num_points=50, points_seed=3)
    assert finite.points.shape == (50, 2)
    # The points are a draw from the mixture: each lies near a mode.
    nearest = np.linalg.norm(finite.points[:, None] - finite.centers[None], axis=-1).min(1)
    assert nearest.max() < 6 * finite.std
    batch = np.asarray(jax.jit(finite.sample, static_argnums=1)(jax.random.PRNGKey(0), 4_000))
    drawn = {tuple(p) for p in np.asarray(finite.points).tolist()}
    assert {tuple(p) for p in batch.tolist()} <= drawn
    assert len({tuple(p) for p in batch.tolist()}) == 50  # with replacement, all 50 show up
    again = data.make_dataset("ring", num_points=50, points_seed=3)
    np.testing.assert_array_equal(again.points, finite.points)
    other = data.make_dataset("ring", num_points=50, points_seed=4)
    assert not np.array_equal(other.points, finite.points)
