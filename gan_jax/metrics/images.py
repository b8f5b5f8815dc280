"""Sample-based metrics for image GANs, in the feature space of the project's own classifier.

All functions are pure and jittable; none loops over samples in Python.

* Fréchet distance (FD): FID's formula (Heusel et al. 2017, Eq. 6; Dowson & Landau 1982) on the
  penultimate features of `gan_jax.classifier` instead of Inception pool3.
* Precision and recall: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models", Sec. 2 (k-NN manifolds). Recall is the direct measure of mode
  collapse (how much of the real manifold the samples reach), precision of sample quality.
* Inception-score analogue: Salimans et al. 2016, Sec. 4, with the project's classifier.
* Stacked data: modes covered (of 10^3) and the KL divergence between the model's mode
  distribution and the data's, uniform over the modes, as in Metz et al. 2016 (Unrolled GANs),
  Table 2. The direction is KL(p_model || p_data), the "reverse KL" of VEEGAN (Srivastava et al.
  2017) and PacGAN (Lin et al. 2018), which report the same Stacked-MNIST experiment, and of
  `gan_jax.metrics.mixture`.

Precision: JAX computes in float32 unless x64 is enabled. Matmuls ask for HIGHEST precision so
that GPUs/TPUs do not silently drop to TF32/bf16. The trace of the matrix square root in FD is a
nuclear norm (singular values carry an error ~eps * norm, where square roots of eigenvalues
would carry sqrt(eps * norm)); tests compare against scipy.linalg.sqrtm in float64 (relative
error < 1e-4) and check FD(x, x) ~ 0 for rank-deficient features.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

_HIGHEST = jax.lax.Precision.HIGHEST


def _matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.matmul(a, b, precision=_HIGHEST)


# ------------------------------------------------------------------------------------------------
# Fréchet distance


def feature_statistics(features: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean (d,) and unbiased covariance (d, d) of `features`, shape (n, d)."""
    features = jnp.asarray(features, jnp.float32)
    mean = jnp.mean(features, axis=0)
    centered = features - mean
    cov = _matmul(centered.T, centered) / (features.shape[0] - 1)
    return mean, cov


def _psd_sqrt(cov: jax.Array) -> jax.Array:
    """Symmetric square root of a PSD matrix via eigh.

    Eigenvalues below the numerical-rank tolerance max(w) * d * eps (as numpy.linalg.matrix_rank)
    are rounding noise around zero and are set to zero before the square root, which would
    otherwise amplify a noise of eps * max(w) into sqrt(eps * max(w)).
    """
    cov = 0.5 * (cov + cov.T)
    eigvals, eigvecs = jnp.linalg.eigh(cov)
    tol = jnp.max(eigvals) * cov.shape[0] * jnp.finfo(cov.dtype).eps
    eigvals = jnp.where(eigvals > tol, eigvals, 0.0)
    return _matmul(eigvecs * jnp.sqrt(eigvals), eigvecs.T)


def trace_sqrt_product(cov_a: jax.Array, cov_b: jax.Array) -> jax.Array:
    """tr((S_a S_b)^{1/2}) for PSD S_a, S_b.

    The eigenvalues of S_a S_b equal those of A A^T with A = S_a^{1/2} S_b^{1/2}, i.e. the squared
    singular values of A, so tr((S_a S_b)^{1/2}) = sum of singular values of A (nuclear norm).
    Singular values carry an absolute error ~eps * ||A||, whereas taking sqrt of eigenvalues of
    S_a^{1/2} S_b S_a^{1/2} would turn an error eps * ||S|| on each near-zero eigenvalue into
    sqrt(eps * ||S||).
    """
    product = _matmul(_psd_sqrt(cov_a), _psd_sqrt(cov_b))
    return jnp.sum(jnp.linalg.svd(product, compute_uv=False))


def frechet_distance_from_stats(
    mean_a: jax.Array, cov_a: jax.Array, mean_b: jax.Array, cov_b: jax.Array
) -> jax.Array:
    """Fréchet (2-Wasserstein) distance between N(mean_a, cov_a) and N(mean_b, cov_b).

    d^2 = ||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^{1/2})
    (Dowson & Landau 1982; Heusel et al. 2017, Eq. 6, where it defines FID). Not clipped at 0: a
    tiny negative value is float32 rounding of two equal distributions.
    """
    mean_term = jnp.sum((mean_a - mean_b) ** 2)
    return mean_term + jnp.trace(cov_a) + jnp.trace(cov_b) - 2.0 * trace_sqrt_product(cov_a, cov_b)


def trace_sqrt_product_from_samples(centred_a: jax.Array, centred_b: jax.Array) -> jax.Array:
    """tr((S_a S_b)^{1/2}) with S = X^T X / (n - 1) for centred samples X_a (n_a, d), X_b (n_b, d).

    The non-zero eigenvalues of S_a S_b = X_a^T (X_a X_b^T X_b) / c, c = (n_a - 1)(n_b - 1), are
    those of (X_a X_b^T)(X_a X_b^T)^T / c, so the trace is the nuclear norm of the (n_a, n_b)
    cross-Gram matrix X_a X_b^T over sqrt(c): exact, with no matrix square root at all, and
    cheaper than the d x d route when there are fewer samples than feature dimensions.
    """
    scale = jnp.sqrt((centred_a.shape[0] - 1.0) * (centred_b.shape[0] - 1.0))
    cross_gram = _matmul(centred_a, centred_b.T)
    return jnp.sum(jnp.linalg.svd(cross_gram, compute_uv=False)) / scale


def reference_statistics(feats: jax.Array) -> dict[str, jax.Array]:
    """What FD needs of a fixed reference feature set (n, d), computed once: its mean, centred
    features, tr(S) and S^{1/2} (unbiased covariance S)."""
    feats = jnp.asarray(feats, jnp.float32)
    mean, cov = feature_statistics(feats)
    return {
        "mean": mean,
        "centred": feats - mean,
        "trace": jnp.trace(cov),
        "cov_sqrt": _psd_sqrt(cov),
    }


def frechet_distance_to_reference(reference: dict[str, jax.Array], feats: jax.Array) -> jax.Array:
    """FD (see `frechet_distance_from_stats`) between Gaussians fitted to the reference set of
    `reference_statistics` and to `feats` (n, d), unbiased covariances.

    tr((S_r S_f)^{1/2}) takes the cheaper of two exact routes, chosen from the static shapes:
    the (n_r, n_f) cross-Gram matrix when max(n_r, n_f) <= d
    (`trace_sqrt_product_from_samples`), else the d x d matrix S_r^{1/2} S_f^{1/2}. Nothing here
    combines two reference arrays only, so a jitted caller that closes over `reference` leaves
    XLA nothing to constant-fold.
    """
    feats = jnp.asarray(feats, jnp.float32)
    n_ref, dim = reference["centred"].shape
    mean, cov = feature_statistics(feats)
    if max(n_ref, feats.shape[0]) <= dim:
        trace_sqrt = trace_sqrt_product_from_samples(reference["centred"], feats - mean)
    else:
        product = _matmul(reference["cov_sqrt"], _psd_sqrt(cov))
        trace_sqrt = jnp.sum(jnp.linalg.svd(product, compute_uv=False))
    mean_term = jnp.sum((reference["mean"] - mean) ** 2)
    return mean_term + reference["trace"] + jnp.trace(cov) - 2.0 * trace_sqrt


def frechet_distance(feats_a: jax.Array, feats_b: jax.Array) -> jax.Array:
    """FD between Gaussians fitted to two feature sets of shapes (n_a, d) and (n_b, d)."""
    return frechet_distance_to_reference(reference_statistics(feats_a), feats_b)


# ------------------------------------------------------------------------------------------------
# Precision and recall (Kynkäänniemi et al. 2019)


def _squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    """(n_a, n_b) squared Euclidean distances by matmul, clipped at 0."""
    sq = jnp.sum(a * a, axis=1)[:, None] + jnp.sum(b * b, axis=1)[None, :] - 2.0 * _matmul(a, b.T)
    return jnp.maximum(sq, 0.0)


def knn_radii_squared(feats: jax.Array, k: int = 3, chunk_size: int = 1024) -> jax.Array:
    """Squared distance from each row of `feats` (n, d) to its k-th nearest other row.

    Kynkäänniemi et al. 2019, Sec. 2: the radius of the ball around each sample, "the distance to
    its k-th nearest neighbour" in the same set. The sample itself (distance 0) is the 1st of the
    k + 1 smallest distances, so the radius is the (k + 1)-th smallest; with duplicates this is
    still the k-th nearest neighbour excluding the sample. Rows are processed `chunk_size` at a
    time so memory is O(chunk_size * n).
    """

    def radius(row):
        sq = _squared_distances(row[None, :], feats)[0]
        neg_smallest, _ = jax.lax.top_k(-sq, k + 1)
        return -neg_smallest[k]

    return jax.lax.map(radius, feats, batch_size=min(chunk_size, feats.shape[0]))


def fraction_inside_manifold(
    queries: jax.Array, centers: jax.Array, radii_sq: jax.Array, chunk_size: int = 1024
) -> jax.Array:
    """Fraction of `queries` inside the union of balls B(centers_i, sqrt(radii_sq_i)).

    Kynkäänniemi et al. 2019, Eq. 1 (f(phi, Phi) = 1 iff ||phi - phi'|| <= NND_k(phi') for some
    phi' in Phi), averaged over the queries (Eqs. 2-3).
    """

    def inside(query):
        sq = _squared_distances(query[None, :], centers)[0]
        return jnp.any(sq <= radii_sq)

    hits = jax.lax.map(inside, queries, batch_size=min(chunk_size, queries.shape[0]))
    return jnp.mean(hits.astype(jnp.float32))


def precision_recall(
    real_feats: jax.Array, fake_feats: jax.Array, k: int = 3, chunk_size: int = 1024
) -> dict[str, jax.Array]:
    """Improved precision and recall (Kynkäänniemi et al. 2019, Sec. 2, Eqs. 1-3).

    precision = fraction of fake samples inside the real manifold (quality);
    recall = fraction of real samples inside the fake manifold (coverage; low under mode
    collapse). Each manifold is the union of balls around its samples with radius the distance
    to the sample's k-th nearest neighbour in its own set (the paper uses k = 3).
    """
    real_feats = jnp.asarray(real_feats, jnp.float32)
    fake_feats = jnp.asarray(fake_feats, jnp.float32)
    # Distances are translation invariant; centring reduces cancellation in |a|^2 + |b|^2 - 2ab.
    offset = jnp.mean(real_feats, axis=0)
    real_feats, fake_feats = real_feats - offset, fake_feats - offset
    real_radii = knn_radii_squared(real_feats, k, chunk_size)
    fake_radii = knn_radii_squared(fake_feats, k, chunk_size)
    return {
        "precision": fraction_inside_manifold(fake_feats, real_feats, real_radii, chunk_size),
        "recall": fraction_inside_manifold(real_feats, fake_feats, fake_radii, chunk_size),
    }


# ------------------------------------------------------------------------------------------------
# Inception-score analogue


def inception_score(logits: jax.Array) -> jax.Array:
    """exp(E_x KL(p(y|x) || p(y))), Salimans et al. 2016, Sec. 4, from (n, K) class logits.

    p(y) is the mean of p(y|x) over the n samples. Ranges from 1 (every sample gets the same
    prediction, or predictions are uniform) to K (confident predictions, classes balanced).
    Here the classifier is the project's own one, not Inception: an "IS analogue", comparable only
    between runs that use the same classifier.
    """
    log_p_y_given_x = jax.nn.log_softmax(jnp.asarray(logits, jnp.float32), axis=-1)
    log_p_y = jax.nn.logsumexp(log_p_y_given_x, axis=0) - jnp.log(logits.shape[0])
    p_y_given_x = jnp.exp(log_p_y_given_x)
    kl = jnp.sum(p_y_given_x * (log_p_y_given_x - log_p_y[None, :]), axis=-1)
    return jnp.exp(jnp.mean(kl))


def joint_logits(logits_per_channel: jax.Array) -> jax.Array:
    """(n, C, K) per-channel logits -> (n, K^C) log-probabilities of the joint label.

    The channels' predictions are treated as independent: log p(y_1..y_C | x) = sum_c
    log p(y_c | x_c). The joint label is the mode id y_1 K^{C-1} + ... + y_C (see `mode_ids`).
    """
    log_probs = jax.nn.log_softmax(jnp.asarray(logits_per_channel, jnp.float32), axis=-1)
    n, channels, k = log_probs.shape
    joint = log_probs[:, 0, :]
    for c in range(1, channels):  # a loop over channels (static, 3), not over samples
        joint = (joint[:, :, None] + log_probs[:, c, None, :]).reshape(n, -1)
    return joint


# ------------------------------------------------------------------------------------------------
# Stacked data: modes covered and reverse KL (Metz et al. 2016, Table 2)


def mode_ids(logits_per_channel: jax.Array) -> jax.Array:
    """(n, C, K) logits -> (n,) mode ids sum_c argmax_c * K^(C-1-c), in [0, K^C)."""
    labels = jnp.argmax(logits_per_channel, axis=-1)
    _, channels, k = logits_per_channel.shape
    place_values = k ** jnp.arange(channels - 1, -1, -1)
    return jnp.sum(labels * place_values[None, :], axis=-1)


def stacked_modes(logits_per_channel: jax.Array) -> dict[str, jax.Array]:
    """Mode coverage of stacked data (Metz et al. 2016, Sec. 3.3 and Table 2).

    A sample's mode is the triple of the classifier's per-channel predictions (10^3 = 1000 modes
    for stacked digits). Returns:
      modes_covered: number of modes predicted for at least one sample (float32, 0..K^C).
      reverse_kl: KL(p_model || p_data) = sum_m p_m log(p_m K^C), p the model's normalised mode
        histogram and p_data uniform over the K^C modes (the KL of Metz et al. Table 2, in the
        direction VEEGAN / PacGAN use). 0 for a uniform histogram, log(K^C) when every sample
        has one mode.
      mode_histogram: (K^C,) counts per mode.
    """
    _, channels, k = logits_per_channel.shape
    num_modes = k**channels
    counts = jnp.bincount(mode_ids(logits_per_channel), length=num_modes).astype(jnp.float32)
    p = counts / jnp.sum(counts)
    kl = jnp.sum(jnp.where(p > 0, p * jnp.log(p * num_modes), 0.0))
    return {
        "modes_covered": jnp.sum(counts > 0).astype(jnp.float32),
        "reverse_kl": kl,
        "mode_histogram": counts,
    }


# ------------------------------------------------------------------------------------------------
# Everything at once, for the training loop's evaluation


def to_float_images(images: jax.Array) -> jax.Array:
    """uint8 images in 0..255 -> float32 in [-1, 1]; float images are returned as float32."""
    images = jnp.asarray(images)
    if images.dtype == jnp.uint8:
        return images.astype(jnp.float32) / 127.5 - 1.0
    return images.astype(jnp.float32)


def make_image_metric_fn(
    feature_fn: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
    real_images: jax.Array,
    stacked: bool,
    k: int = 3,
    chunk_size: int = 1024,
) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """Returns `metric_fn(samples) -> dict`, jittable, mirroring `mixture_metrics`.

    `feature_fn(images in [-1, 1] NHWC) -> (features, logits)` is the classifier's
    (`gan_jax.classifier.make_feature_fn`); logits are (n, K), or (n, C, K) for stacked data.
    `real_images` (uint8 0..255 or float in [-1, 1]) are held-out real images: their features,
    FD statistics and k-NN radii are computed once here (they enter a jitted metric_fn as
    constants, so it does no heavy work on them alone that XLA would constant-fold).
    `samples` are float in [-1, 1] with the real images' shape.

    The dict holds "fd", "precision", "recall", "inception_score" and, when `stacked`,
    "modes_covered", "reverse_kl", "mode_histogram" (see `stacked_modes`). For stacked data the
    IS analogue is over the K^C joint labels (up to 1000), FD and precision/recall over the
    per-channel features concatenated.
    """
    real_feats, _ = feature_fn(to_float_images(real_images))
    # Distances and FD are translation invariant; centring on the real mean reduces cancellation.
    offset = jnp.mean(jnp.asarray(real_feats, jnp.float32), axis=0)
    real_centred = jnp.asarray(real_feats, jnp.float32) - offset
    reference = jax.jit(reference_statistics)(real_centred)
    real_radii = jax.jit(knn_radii_squared, static_argnums=(1, 2))(real_centred, k, chunk_size)

    def metric_fn(samples: jax.Array) -> dict[str, jax.Array]:
        feats, logits = feature_fn(to_float_images(samples))
        feats = jnp.asarray(feats, jnp.float32) - offset
        fake_radii = knn_radii_squared(feats, k, chunk_size)
        metrics = {
            "fd": frechet_distance_to_reference(reference, feats),
            "precision": fraction_inside_manifold(feats, real_centred, real_radii, chunk_size),
            "recall": fraction_inside_manifold(real_centred, feats, fake_radii, chunk_size),
        }
        if stacked:
            metrics["inception_score"] = inception_score(joint_logits(logits))
            metrics.update(stacked_modes(logits))
        else:
            metrics["inception_score"] = inception_score(logits)
        return metrics

    return metric_fn
