"""Evaluation metrics, chosen by the kind of data set."""

from gan_jax.data.dirac import PointMass, point_mass_metrics
from gan_jax.data.mixtures import Mixture2D
from gan_jax.metrics.mixture import mixture_metrics


def for_dataset(dataset):
    """Returns `metric_fn(samples) -> dict` for `dataset` (jittable)."""
    if isinstance(dataset, Mixture2D):
        return lambda samples: mixture_metrics(samples, dataset.centers, dataset.std)
    if isinstance(dataset, PointMass):
        return lambda samples: point_mass_metrics(samples, dataset.location)
    raise ValueError(f"no metrics for data set {dataset!r}")


__all__ = ["for_dataset", "mixture_metrics"]
