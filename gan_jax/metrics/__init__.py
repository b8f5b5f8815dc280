"""Evaluation metrics, chosen by the kind of data set."""

import jax

from gan_jax.data.dirac import PointMass, point_mass_metrics
from gan_jax.data.images import ImageDataset
from gan_jax.data.mixtures import Mixture2D
from gan_jax.metrics.mixture import mixture_metrics

REFERENCE_KEY = 0  # the fixed draw of held-out stacked images every eval compares against


def for_dataset(dataset, num_samples: int = 2_000):
    """Returns `metric_fn(samples) -> dict` for `dataset` (jittable).

    Image sets are scored in the feature space of their classifier (`gan_jax.classifier`,
    trained on first use and cached under $GAN_JAX_CACHE) against held-out real images: the
    whole test split, or for stacked sets `num_samples` stacks of held-out digits. An unlabeled
    set (celeb_a) has no classifier and logs no metrics.
    """
    if isinstance(dataset, Mixture2D):
        return lambda samples: mixture_metrics(samples, dataset.centers, dataset.std)
    if isinstance(dataset, PointMass):
        return lambda samples: point_mass_metrics(samples, dataset.location)
    if isinstance(dataset, ImageDataset):
        if dataset.num_classes is None:
            return lambda samples: {}
        from gan_jax import classifier
        from gan_jax.metrics.images import make_image_metric_fn

        trained = classifier.classifier_for(dataset)
        feature_fn = classifier.make_feature_fn(trained.params, trained.config)
        if dataset.stacked:
            key = jax.random.PRNGKey(REFERENCE_KEY)
            real, _ = dataset.sample_with_labels(key, num_samples, split="test")
        else:
            real = dataset.test_images
        return make_image_metric_fn(feature_fn, real, stacked=dataset.stacked)
    raise ValueError(f"no metrics for data set {dataset!r}")


__all__ = ["for_dataset", "mixture_metrics"]
