"""Evaluation, declared per kind of data set: an `Evaluator` brings its metric function, its
declared metrics (`gan_jax.metrics.declared`) and its plots (`gan_jax.metrics.plots`, loaded
only when a plot is drawn)."""

import os
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from gan_jax.metrics import declared
from gan_jax.metrics.mixture import mixture_metrics
from gan_jax.parts.data.dirac import PointMass, point_mass_metrics
from gan_jax.parts.data.images import ImageDataset, to_uint8
from gan_jax.parts.data.mixtures import Mixture2D

REFERENCE_KEY = 0  # the fixed draw of held-out stacked images every eval compares against
# KID during training: 10 subsets (of up to 1,000) keep an eval of 2,000 stacked samples near
# the cost of precision/recall on a CPU; the field's protocol (100 subsets) is for final numbers
# (`gan_jax.metrics.images.KID_SUBSETS`, or an exported sample set, `gan_jax.results.export`).
EVAL_KID_SUBSETS = 10
# Stacked sets: at most this many real single images (a fixed draw of the train split) make the
# manifold a channel must lie on to count (`recognized_stacks`); their k-NN radii cost O(n^2).
MAX_SINGLE_IMAGES = 10_000
INCEPTION_REFERENCE_SIZE = 50_000  # stacked sets: real stacks for the FID reference statistics


class Evaluator(NamedTuple):
    """How one kind of data set is evaluated, declared once: the loop, the config checks and
    the report iterate over this and never look at a data set's type or shape.

    Attributes:
      kind: "mixture", "image", "stacked" or "dirac".
      metrics: the declared metrics its metric function logs (`gan_jax.metrics.declared`).
      images: whether samples are images (shape checks, Inception, grids of samples).
      title, about: the report's section for its metrics outside the main (modes) table.
      make_metric_fn: (dataset, num_samples, inception_weights) -> jittable
        `metric_fn(samples) -> dict`.
      plot_run: (samples_by_step, dataset, metric_rows, samples_dir) -> None; a run's figures.
      plot_panel: (ax, samples, dataset, title) -> None; one panel of the report's final samples.
    """

    kind: str
    metrics: tuple[declared.Metric, ...]
    images: bool
    title: str
    about: str
    make_metric_fn: Callable
    plot_run: Callable
    plot_panel: Callable

    @property
    def mode_histogram(self) -> bool:
        """Whether its evals log "mode_histogram" (per-mode counts)."""
        return any(m.mode_histogram for m in self.metrics)


def _mixture_metric_fn(dataset, num_samples, inception_weights):
    del num_samples, inception_weights
    return lambda samples: mixture_metrics(samples, dataset.centers, dataset.std)


def _dirac_metric_fn(dataset, num_samples, inception_weights):
    del num_samples, inception_weights
    return lambda samples: point_mass_metrics(samples, dataset.location)


def _image_metric_fn(dataset, num_samples, inception_weights):
    metric_fns = [] if dataset.num_classes is None else [classifier_metric_fn(dataset, num_samples)]
    if inception_weights is not None:
        metric_fns.append(inception_metric_fn(dataset, inception_weights))
    return lambda samples: {k: v for fn in metric_fns for k, v in fn(samples).items()}


def _plot_mixture_run(samples_by_step, dataset, rows, samples_dir):
    from gan_jax.metrics import hopping, plots

    rows = [r for r in rows if r.get("mode_histogram")]
    if rows:
        shares = hopping.occupancy([r["mode_histogram"] for r in rows])
        path = os.path.join(samples_dir, "mode_occupancy.png")
        plots.plot_mode_occupancy([r["step"] for r in rows], shares, path)
    chosen = plots.pick_evenly(list(samples_by_step), plots.PLOTTED_STEPS)
    plots.plot_samples_over_training(
        {step: samples_by_step[step] for step in chosen},
        dataset.centers,
        os.path.join(samples_dir, "samples_over_training.png"),
    )


def _plot_image_run(samples_by_step, dataset, rows, samples_dir):
    from gan_jax.metrics import plots

    del rows
    chosen = plots.pick_evenly(list(samples_by_step), plots.PLOTTED_STEPS)
    plots.plot_image_samples_over_training(  # grids of samples, the real ones first
        {step: samples_by_step[step] for step in chosen},
        os.path.join(samples_dir, "samples_over_training.png"),
        real=np.asarray(dataset.sample(jax.random.PRNGKey(0), 36)),
    )


def _no_run_plot(samples_by_step, dataset, rows, samples_dir):
    del samples_by_step, dataset, rows, samples_dir


def _mixture_panel(ax, samples, dataset, title):
    from gan_jax.metrics import plots

    plots.show_points(ax, samples, dataset.centers, title)


def _image_panel(ax, samples, dataset, title):
    from gan_jax.metrics import plots

    del dataset
    plots.show_grid(ax, samples[:36], 6, title)


def _dirac_panel(ax, samples, dataset, title):
    from gan_jax.metrics import plots

    plots.show_line(ax, samples, float(np.ravel(dataset.location)[0]), title)


_IMAGE_ABOUT = (
    "Final values, mean ± standard error over seeds, in the data set's classifier feature space: "
    "Frechet distance (FD) and KID (Binkowski et al. 2018) to held-out real images (lower is "
    "better), k-NN precision and recall (Kynkaanniemi et al. 2019), density and coverage (Naeem "
    "et al. 2020; fidelity and diversity, robust to outliers, near 1 for real data), and the "
    "Inception-score analogue. FID and KID (when logged): on FID-Inception pool3 features, as "
    "papers report them."
)

_STACKED_ABOUT = (
    "Stacked sets count modes two ways. The main table's modes covered and reverse KL are the "
    "field's (Metz et al. 2016, VEEGAN, PacGAN): every sample, its mode the classifier's argmax "
    "on each channel, comparable with their tables. The recognised-stack columns here count only "
    "the samples whose every channel lies on the manifold of real digits (HQ % is their share), "
    "so images the classifier labels without looking like digits count for nothing. " + _IMAGE_ABOUT
)

EVALUATORS = {
    "mixture": Evaluator(
        kind="mixture",
        metrics=declared.MIXTURE,
        images=False,
        title="",
        about="",
        make_metric_fn=_mixture_metric_fn,
        plot_run=_plot_mixture_run,
        plot_panel=_mixture_panel,
    ),
    "image": Evaluator(
        kind="image",
        metrics=declared.IMAGE,
        images=True,
        title="Image metrics",
        about=_IMAGE_ABOUT,
        make_metric_fn=_image_metric_fn,
        plot_run=_plot_image_run,
        plot_panel=_image_panel,
    ),
    "stacked": Evaluator(
        kind="stacked",
        metrics=declared.MIXTURE + declared.STACKED + declared.IMAGE,
        images=True,
        title="Image metrics",
        about=_STACKED_ABOUT,
        make_metric_fn=_image_metric_fn,
        plot_run=_plot_image_run,
        plot_panel=_image_panel,
    ),
    "dirac": Evaluator(
        kind="dirac",
        metrics=declared.DIRAC,
        images=False,
        title="Dirac-GAN",
        about="Final values, mean ± standard error over seeds; the distance is |theta - data point|"
        " for the one-parameter generator (0 at the equilibrium).",
        make_metric_fn=_dirac_metric_fn,
        plot_run=_no_run_plot,
        plot_panel=_dirac_panel,
    ),
}


def evaluator_for(dataset) -> Evaluator:
    """The evaluator of a data set. The one place that looks at a data set's type."""
    if isinstance(dataset, Mixture2D):
        return EVALUATORS["mixture"]
    if isinstance(dataset, PointMass):
        return EVALUATORS["dirac"]
    if isinstance(dataset, ImageDataset):
        return EVALUATORS["stacked" if dataset.stacked else "image"]
    raise ValueError(f"no evaluator for data set {dataset!r}")


def for_dataset(dataset, num_samples: int = 2_000, inception_weights: str | None = None):
    """Returns `metric_fn(samples) -> dict` for `dataset` (jittable), its evaluator's.

    Image sets are scored in the feature space of their classifier
    (`gan_jax.metrics.classifier`, trained on first use and cached under $GAN_JAX_CACHE) against
    held-out real images: the whole test split, or for stacked sets `num_samples` stacks of
    held-out digits (modes counted by argmax labels, the field's way, and among the stacks
    whose every channel lies on the manifold of up to `MAX_SINGLE_IMAGES` real training digits,
    the project's). An unlabeled set (celeb_a) has
    no classifier. With `inception_weights` (config eval.inception_weights) image sets also get
    "fid" and "kid_inception" (`inception_metric_fn`).
    """
    return evaluator_for(dataset).make_metric_fn(dataset, num_samples, inception_weights)


def classifier_metric_fn(dataset, num_samples: int):
    """FD, KID, precision / recall / density / coverage, the IS analogue and (stacked sets)
    modes, in the feature space of the data set's classifier (`make_image_metric_fn`)."""
    from gan_jax.metrics import classifier
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
    from gan_jax.metrics import classifier, inception

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
    "EVALUATORS",
    "Evaluator",
    "classifier_metric_fn",
    "evaluator_for",
    "for_dataset",
    "inception_metric_fn",
    "mixture_metrics",
]
