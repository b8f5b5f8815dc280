"""Data sets sampled on device, found by name (`config.data.name`)."""

import functools
import inspect

from gan_jax.parts.data.dirac import POINT_MASSES, PointMass
from gan_jax.parts.data.images import (
    IMAGE_DATASETS,
    DatasetUnavailable,
    ImageDataset,
    check_image_shape,
)
from gan_jax.parts.data.mixtures import MIXTURES, Mixture2D

DATASETS = {**MIXTURES, **POINT_MASSES, **IMAGE_DATASETS}


@functools.lru_cache(maxsize=8)
def _build(name: str, options: tuple):
    return DATASETS[name](**dict(options))


def make_dataset(name: str, **options):
    """Returns the data set registered as `name` (see `DATASETS`).

    `options` are the data set's own settings, e.g. `tfds_dir` and `image_size` for image sets
    (`images.make_image_dataset`); an option set to None means the data set's default.
    """
    if name not in DATASETS:
        raise ValueError(f"data.name={name!r} is unknown; choose one of {sorted(DATASETS)}")
    factory = DATASETS[name]
    options = {key: value for key, value in options.items() if value is not None}
    accepted = inspect.signature(factory).parameters
    for key in options:
        if key not in accepted:
            raise ValueError(f"data.{key}={options[key]!r} does not apply to data.name={name!r}")
    # Cached: validation and the experiment both ask for it, and a tfds set loads in seconds.
    return _build(name, tuple(sorted(options.items())))


def from_config(data_config) -> object:
    """The data set a config's `data` block describes: `name` plus every other field as the
    data set's option (None: its default). The one way the package builds a run's data set, so
    a report or a check rebuilds exactly the set a run trained on."""
    options = {key: value for key, value in data_config.items() if key != "name"}
    return make_dataset(data_config["name"], **options)


__all__ = [
    "DATASETS",
    "DatasetUnavailable",
    "ImageDataset",
    "Mixture2D",
    "PointMass",
    "check_image_shape",
    "from_config",
    "make_dataset",
]
