"""Evaluation metrics, chosen by the kind of data set."""

import os

import jax
import numpy as np

from gan_jax.data.dirac import PointMass, point_mass_metrics
from gan_jax.data.images import ImageDataset, to_uint8
from gan_jax.data.mixtures import Mixture2D
from gan_jax.metrics.mixture import mixture_metrics

REFERENCE_KEY = 0  # the fixed draw of held-out stacked images every eval compares against
# KID during training: 10 subsets (of up to 1,000) keep an eval of 2,000 stacked samples near
# the cost of precision/recall on a CPU; the field's protocol (100 subsets) is for final numbers
# (`gan_jax.metrics.images.KID_SUBSETS`, or an exported sample set, `gan_jax.export`).
EVAL_KID_SUBSETS = 10
# Stacked sets: at most this many real single images (a fixed draw of the train split) make the
# manifold a channel must lie on to count (`recognized_stacks`); their k-NN radii cost O(n^2).
MAX_SINGLE_IMAGES = 10_000
INCEPTION_REFERENCE_SIZE = 50_000  # stacked sets: real stacks for the FID reference statistics


def kind_of(dataset) -> str:
    """The kind of evaluation a data set gets: "mixture" (2D modes known exactly), "image",
    "stacked" (images whose modes are digit triples) or "dirac". The one place that looks at a
    data set's type; the loop, the report and the config checks ask this."""
    if isinstance(dataset, Mixture2D):
        return "mixture"
    if isinstance(dataset, PointMass):
        return "dirac"
    if isinstance(dataset, ImageDataset):
        return "stacked" if dataset.stacked else "image"
    raise ValueError(f"no evaluation for data set {dataset!r}")


IMAGE_KINDS = ("image", "stacked")


def for_dataset(dataset, num_samples: int = 2_000, inception_weights: str | None = None):
    """Returns `metric_fn(samples) -> dict` for `dataset` (jittable).

    Image sets are scored in the feature space of their classifier (`gan_jax.classifier`,
    trained on first use and cached under $GAN_JAX_CACHE) against held-out real images: the
    whole test split, or for stacked sets `num_samples` stacks of held-out digits (a stack counts
    towards the modes only when each of its channels lies on the manifold of up to
    `MAX_SINGLE_IMAGES` real training digits). An unlabeled set (celeb_a) has no classifier.
    With `inception_weights` (config eval.inception_weights) image sets also get "fid" and
    "kid_inception" (`inception_metric_fn`).
    """
    kind = kind_of(dataset)
    if kind == "mixture":
        return lambda samples: mixture_metrics(samples, dataset.centers, dataset.std)
    if kind == "dirac":
        return lambda samples: point_mass_metrics(samples, dataset.location)
    metric_fns = [] if dataset.num_classes is None else [classifier_metric_fn(dataset, num_samples)]
    if inception_weights is not None:
        metric_fns.append(inception_metric_fn(dataset, inception_weights))
    return lambda samples: {k: v for fn in metric_fns for k, v in fn(samples).items()}


def classifier_metric_fn(dataset, num_samples: int):
    """FD, KID, precision / recall / density / coverage, the IS analogue and (stacked sets)
    modes, in the feature space of the data set's classifier (`make_image_metric_fn`)."""
    from gan_jax import classifier
    from gan_jax.metrics.images import make_image_metric_fn

    trained = classifier.classifier_for(dataset)
    feature_fn = classifier.make_feature_fn(trained.params, trained.config)
    single = None
    if dataset.stacked:
        key = jax.random.PRNGKey(REFERENCE_KEY)
        real, _ = dataset.sample_with_labels(key, num_samples, split="test")
        single = dataset.images
        if single.shape[0] > MAX_SINGLE_IMAGES:
            pick = jax.random.permutation(key, single.shape[0])[:MAX_SINGLE_IMAGES]
            single = single[pick]
    else:
        real = dataset.test_images
    return make_image_metric_fn(
        feature_fn,
        real,
        stacked=dataset.stacked,
        single_images=single,
        kid_subsets=EVAL_KID_SUBSETS,
    )


def inception_metric_fn(dataset, weights_path: str, cache_dir: str | None = None):
    """FID and KID on FID-Inception pool3 features (`gan_jax.metrics.inception`) against the
    train split, the protocol of pytorch-fid / clean-fid for CIFAR-10 (for a stacked set,
    `INCEPTION_REFERENCE_SIZE` stacks of training digits); the reference statistics are computed
    once and cached under $GAN_JAX_CACHE, keyed by the weights file and the images. Raises a
    one-line ValueError for a file that is not pytorch-fid's weights."""
    from gan_jax import classifier
    from gan_jax.metrics import inception

    weights_path = os.path.expanduser(weights_path)
    feature_fn = inception.make_feature_fn(inception.load_params(weights_path))
    if dataset.stacked:
        key = jax.random.PRNGKey(REFERENCE_KEY)
        real = dataset.sample(key, INCEPTION_REFERENCE_SIZE)  # float in [-1, 1]
        real = np.asarray(to_uint8(real))
    else:
        real = np.asarray(dataset.images)
    cache_dir = cache_dir or classifier.default_cache_dir()
    reference = inception.cached_reference(weights_path, real, feature_fn, cache_dir)
    return inception.make_metric_fn(feature_fn, reference)


__all__ = [
    "IMAGE_KINDS",
    "classifier_metric_fn",
    "for_dataset",
    "inception_metric_fn",
    "kind_of",
    "mixture_metrics",
]
