"""Data sets sampled on device, found by name (`config.data.name`)."""

from gan_jax.data.mixtures import MIXTURES, Mixture2D

DATASETS = dict(MIXTURES)


def make_dataset(name: str):
    """Returns the data set registered as `name` (see `DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"data.name={name!r} is unknown; choose one of {sorted(DATASETS)}")
    return DATASETS[name]()


__all__ = ["DATASETS", "Mixture2D", "make_dataset"]
