"""Sample-based metrics for image GANs, in the feature space of the project's own classifier.

All functions are pure and jittable; none loops over samples in Python.

* Fréchet distance (FD): FID's formula (Heusel et al. 2017, Eq. 6; Dowson & Landau 1982) on the
  penultimate features of `gan_jax.metrics.classifier` instead of Inception pool3.
* Precision and recall: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models", Sec. 2 (k-NN manifolds). Recall is the direct measure of mode
  collapse (how much of the real manifold the samples reach), precision of sample quality.
* Density and coverage: Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", Eqs. 3-4, from the same k-NN radii; robust to the outliers that inflate
  precision and recall.
* KID: Bińkowski et al. 2018, "Demystifying MMD GANs", Sec. 4: the unbiased MMD^2 with the
  kernel (x . y / d + 1)^3, mean and std over subsets; unbiased, so usable with few samples.
* Inception-score analogue: Salimans et al. 2016, Sec. 4, with the project's classifier.
* Stacked data: modes covered (of 10^3) and the KL divergence between the model's mode
  distribution and the data's, uniform over the modes, counted two ways side by side
  (`stacked_mode_metrics`): the field's, every sample by the argmax of the classifier on each
  channel (Metz et al. 2016, Table 2; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018),
  as `modes_covered` / `reverse_kl`, comparable with their tables; and the project's stricter
  one, only stacks whose every channel lies on the real single-image manifold
  (`recognized_stacks`; an untrained G scores ~0 there, where argmax labels give it hundreds of
  modes), as `recognized_modes_covered` / `recognized_reverse_kl`. The direction is
  KL(p_model || p_data), the "reverse KL" of VEEGAN and PacGAN and of `gan_jax.metrics.mixture`.

The same functions score Inception pool3 features (`gan_jax.metrics.inception`): FID and KID as
papers report them.

Precision: JAX computes in float32 unless x64 is enabled. Matmuls ask for HIGHEST precision so
that GPUs/TPUs do not silently drop to TF32/bf16. The trace of the matrix square root in FD is a
nuclear norm (singular values carry an error ~eps * norm, where square roots of eigenvalues
would carry sqrt(eps * norm)); tests compare against scipy.linalg.sqrtm in float64 (relative
error < 1e-4) and check FD(x, x) ~ 0 for rank-deficient features.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from gan_jax.parts.data.images import to_unit_range

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


def reference_from_moments(mean, cov) -> dict[str, jax.Array]:
    """`reference_statistics` from a reference set's mean (d,) and covariance (d, d) alone (e.g.
    cached Inception statistics of 50,000 real images): FD then takes the d x d route."""
    cov = jnp.asarray(cov, jnp.float32)
    return {
        "mean": jnp.asarray(mean, jnp.float32),
        "trace": jnp.trace(cov),
        "cov_sqrt": jax.jit(_psd_sqrt)(cov),
    }


def frechet_distance_to_reference(reference: dict[str, jax.Array], feats: jax.Array) -> jax.Array:
    """FD (see `frechet_distance_from_stats`) between Gaussians fitted to the reference set of
    `reference_statistics` and to `feats` (n, d), unbiased covariances.

    tr((S_r S_f)^{1/2}) takes the cheaper of two exact routes, chosen from the static shapes:
    the (n_r, n_f) cross-Gram matrix when max(n_r, n_f) <= d
    (`trace_sqrt_product_from_samples`; needs the reference's "centred" features), else the
    d x d matrix S_r^{1/2} S_f^{1/2} (`reference_from_moments` suffices). Nothing here
    combines two reference arrays only, so a jitted caller that closes over `reference` leaves
    XLA nothing to constant-fold.
    """
    feats = jnp.asarray(feats, jnp.float32)
    n_ref = reference["centred"].shape[0] if "centred" in reference else None
    mean, cov = feature_statistics(feats)
    if n_ref is not None and max(n_ref, feats.shape[0]) <= feats.shape[1]:
        trace_sqrt = trace_sqrt_product_from_samples(reference["centred"], feats - mean)
    else:
        product = _matmul(reference["cov_sqrt"], _psd_sqrt(cov))
        trace_sqrt = jnp.sum(jnp.linalg.svd(product, compute_uv=False))
    mean_term = jnp.sum((reference["mean"] - mean) ** 2)
    return mean_term + reference["trace"] + jnp.trace(cov) - 2.0 * trace_sqrt


# ------------------------------------------------------------------------------------------------
# k-NN manifolds: precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem
# et al. 2020), all from the same k-NN radii


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

    def radii(rows):
        sq = _squared_distances(rows, feats)
        # The (k + 1)-th smallest of each row: drop the row's smallest k times (one entry each,
        # so duplicates count as `top_k` counts them), then take the minimum. Hand-written
        # because XLA:CPU's top_k sorts each row (4x slower on 4,000 x 4,000 distances), and the
        # radii of 10,000 samples are part of every image eval.
        index = jnp.arange(sq.shape[1])
        for _ in range(k):
            sq = jnp.where(index == jnp.argmin(sq, axis=1, keepdims=True), jnp.inf, sq)
        return jnp.min(sq, axis=1)

    return _map_row_chunks(radii, feats, chunk_size)


def _map_row_chunks(fn, rows: jax.Array, chunk_size: int):
    """`fn` over `rows` (n, d) `chunk_size` rows at a time (the last chunk padded), as one
    (chunk_size, d) matrix each: a matmul per chunk where `lax.map`'s `batch_size` would vmap a
    per-row function. `fn` returns arrays with the chunk's rows first."""
    n = rows.shape[0]
    size = min(chunk_size, n)
    num_chunks = -(-n // size)
    padded = jnp.pad(rows, ((0, num_chunks * size - n), (0, 0)))
    out = jax.lax.map(fn, padded.reshape(num_chunks, size, rows.shape[1]))
    return jax.tree.map(lambda a: a.reshape(num_chunks * size, *a.shape[2:])[:n], out)


def ball_counts(
    queries: jax.Array, centers: jax.Array, radii_sq: jax.Array, chunk_size: int = 1024
) -> tuple[jax.Array, jax.Array]:
    """For each query: how many balls B(centers_i, sqrt(radii_sq_i)) hold it, and its squared
    distance to the nearest center; shapes (n_q,) int32 and (n_q,) float32.

    One pass over the (n_q, n_c) distances gives every k-NN manifold metric: a count > 0 is
    Kynkäänniemi et al. 2019, Eq. 1 (f(phi, Phi) = 1 iff ||phi - phi'|| <= NND_k(phi') for some
    phi' in Phi); the count itself is the inner sum of Naeem et al. 2020, Eq. 3 (density); the
    nearest distance, compared with the query's own radius, is Eq. 4 (coverage). Queries go
    `chunk_size` at a time, so memory is O(chunk_size * n_c).
    """

    def one(query):
        sq = _squared_distances(query[None, :], centers)[0]
        return jnp.sum(sq <= radii_sq, dtype=jnp.int32), jnp.min(sq)

    return jax.lax.map(one, queries, batch_size=min(chunk_size, queries.shape[0]))


def manifold_metrics(
    real_feats: jax.Array,
    fake_feats: jax.Array,
    real_radii_sq: jax.Array,
    fake_radii_sq: jax.Array,
    k: int,
    chunk_size: int = 1024,
) -> dict[str, jax.Array]:
    """Precision, recall, density and coverage from precomputed k-NN radii (`knn_radii_squared`).

    With X the N real and Y the M fake features, B(x, NND_k(x)) the ball around x reaching its
    k-th nearest neighbour in its own set:
      precision = 1/M sum_j 1[Y_j in some B(X_i)]   (Kynkäänniemi et al. 2019, Eq. 2; quality)
      recall    = 1/N sum_i 1[X_i in some B(Y_j)]   (Eq. 3; low under mode collapse)
      density   = 1/(kM) sum_j sum_i 1[Y_j in B(X_i)]   (Naeem et al. 2020, Eq. 3)
      coverage  = 1/N sum_i 1[some Y_j in B(X_i)]       (Naeem et al. 2020, Eq. 4)
    Density counts how many real balls hold each sample, so one real outlier with a huge ball
    cannot make every sample "precise"; coverage uses only the real balls, so fake outliers
    cannot inflate it as they inflate recall. Both are 1 in expectation when X and Y come from
    one distribution (coverage: 1 - prod_{i=1..k} (N - i) / (N + M - i), Naeem et al. Sec. 4,
    0.875 for k = 3 and M = N; density's mean is exactly 1). Balls are closed (<=), as in
    Kynkäänniemi et al.; Naeem et al.'s code uses open ones (<), which differs only on ties.
    Two passes over the real-fake distances in all.
    """
    fake_counts, _ = ball_counts(fake_feats, real_feats, real_radii_sq, chunk_size)
    real_counts, real_nearest = ball_counts(real_feats, fake_feats, fake_radii_sq, chunk_size)
    return {
        "precision": jnp.mean(fake_counts > 0, dtype=jnp.float32),
        "recall": jnp.mean(real_counts > 0, dtype=jnp.float32),
        "density": jnp.sum(fake_counts, dtype=jnp.float32) / (k * fake_feats.shape[0]),
        "coverage": jnp.mean(real_nearest <= real_radii_sq, dtype=jnp.float32),
    }


# ------------------------------------------------------------------------------------------------
# Kernel Inception distance (Bińkowski et al. 2018)

KID_SUBSETS = 100  # Bińkowski et al.'s and torch-fidelity's protocol: 100 subsets of 1,000
KID_SUBSET_SIZE = 1000


def polynomial_kernel(a: jax.Array, b: jax.Array) -> jax.Array:
    """k(x, y) = (x . y / d + 1)^3 for rows of a (n_a, d) and b (n_b, d): (n_a, n_b).

    The cubic polynomial kernel of Bińkowski et al. 2018, Sec. 4 ("Demystifying MMD GANs"). It
    is not translation invariant, so KID takes the features as they are, never centred.
    """
    return (_matmul(a, b.T) / a.shape[-1] + 1.0) ** 3


def kid_subset_indices(key: jax.Array, n: int, num_subsets: int, subset_size: int) -> jax.Array:
    """(num_subsets, min(subset_size, n)) indices into n rows, without repetition in a subset."""
    size = min(subset_size, n)
    keys = jax.random.split(key, num_subsets)
    return jax.vmap(lambda k: jax.random.permutation(k, n)[:size])(keys)


def kernel_means_within(feats: jax.Array, indices: jax.Array) -> jax.Array:
    """Per subset s: 1/(m(m-1)) sum_{i != j} k(x_i, x_j) over the rows feats[indices[s]]; (S,)."""

    def one(index):
        x = feats[index]
        gram = polynomial_kernel(x, x)
        m = index.shape[0]
        return (jnp.sum(gram) - jnp.trace(gram)) / (m * (m - 1))

    return jax.lax.map(one, indices)


def kernel_means_across(
    feats_a: jax.Array, indices_a: jax.Array, feats_b: jax.Array, indices_b: jax.Array
) -> jax.Array:
    """Per subset s: 1/(m n) sum_{i, j} k(a_i, b_j) over a[indices_a[s]], b[indices_b[s]]; (S,)."""

    def one(index_pair):
        index_a, index_b = index_pair
        return jnp.mean(polynomial_kernel(feats_a[index_a], feats_b[index_b]))

    return jax.lax.map(one, (indices_a, indices_b))


def kid_from_kernel_means(
    within_a: jax.Array, within_b: jax.Array, across: jax.Array
) -> dict[str, jax.Array]:
    """KID's mean and standard deviation over subsets from the three kernel means per subset.

    MMD^2_u = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j)
              - 2/(mn) sum_{i,j} k(x_i, y_j)
    (Gretton et al. 2012, Lemma 6; Bińkowski et al. 2018, Eq. 4 and Sec. 4), the unbiased
    estimator: 0 in expectation for two samples of one distribution (so it can be negative), and
    unbiased for any sample size, unlike FID. The std is over subsets with ddof = 0, as
    torch-fidelity reports it.
    """
    mmd2 = within_a + within_b - 2.0 * across
    return {"kid": jnp.mean(mmd2), "kid_std": jnp.std(mmd2)}


def kernel_inception_distance(
    feats_a: jax.Array,
    feats_b: jax.Array,
    num_subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    key: jax.Array | None = None,
) -> dict[str, jax.Array]:
    """KID between feature sets (n_a, d) and (n_b, d): "kid" (mean of MMD^2_u over subsets) and
    "kid_std" (see `kid_from_kernel_means`).

    Each of `num_subsets` subsets draws min(subset_size, n) rows of each set without repetition
    (Bińkowski et al. 2018, Sec. 4: 100 subsets of 1,000); `key` (default PRNGKey(0)) fixes the
    draw, so the same features give the same number. On Inception pool3 features this is KID; on
    the project's classifier features it is its analogue, as FD is FID's.
    """
    feats_a = jnp.asarray(feats_a, jnp.float32)
    feats_b = jnp.asarray(feats_b, jnp.float32)
    key_a, key_b = jax.random.split(jax.random.PRNGKey(0) if key is None else key)
    index_a = kid_subset_indices(key_a, feats_a.shape[0], num_subsets, subset_size)
    index_b = kid_subset_indices(key_b, feats_b.shape[0], num_subsets, subset_size)
    return kid_from_kernel_means(
        kernel_means_within(feats_a, index_a),
        kernel_means_within(feats_b, index_b),
        kernel_means_across(feats_a, index_a, feats_b, index_b),
    )


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
# Stacked data: modes covered and reverse KL (Metz et al. 2016, Table 2), of recognisable stacks


def mode_ids(logits_per_channel: jax.Array) -> jax.Array:
    """(n, C, K) logits -> (n,) mode ids sum_c argmax_c * K^(C-1-c), in [0, K^C)."""
    labels = jnp.argmax(logits_per_channel, axis=-1)
    _, channels, k = logits_per_channel.shape
    place_values = k ** jnp.arange(channels - 1, -1, -1)
    return jnp.sum(labels * place_values[None, :], axis=-1)


def recognized_stacks(
    channel_feats: jax.Array,
    reference_feats: jax.Array,
    reference_radii_sq: jax.Array,
    chunk_size: int = 1024,
) -> jax.Array:
    """(n, C, f) per-channel features -> (n,) True where every channel is a recognisable image.

    A channel is recognisable when its features lie on the manifold of real single images:
    inside the k-NN ball of at least one of `reference_feats` (r, f), with radii
    `reference_radii_sq` from `knn_radii_squared` (Kynkäänniemi et al. 2019, Eq. 1, per channel).
    Why not the classifier's argmax alone: it labels anything, so on stacked 8x8 digits an
    untrained G "covered" 382-461 of 1,000 modes and uniform noise 656. Measured with the digits
    classifier and the 1,438 training digits as reference (k = 3), 2,000 stacks each: held-out
    real stacks 81% recognised, an untrained DCGAN G and uniform noise 0%. A confidence
    threshold (max softmax >= 0.9 on each channel) separated them too (real 85%, noise 0.1%,
    untrained G 0%), but softmax confidence is known to be high far from the data (Hendrycks &
    Gimpel 2017), which a G could reach; the manifold test needs the sample to look like data.
    """
    n, channels, dim = channel_feats.shape
    counts, _ = ball_counts(
        channel_feats.reshape(n * channels, dim), reference_feats, reference_radii_sq, chunk_size
    )
    return jnp.all(counts.reshape(n, channels) > 0, axis=1)


def stacked_modes(
    logits_per_channel: jax.Array, recognized: jax.Array | None = None
) -> dict[str, jax.Array]:
    """Mode coverage of stacked data (Metz et al. 2016, Sec. 3.3 and Table 2).

    A sample's mode is the triple of the classifier's per-channel predictions (10^3 = 1000 modes
    for stacked digits); only samples with `recognized` True (`recognized_stacks`; default: all)
    count, as the mixtures count only high-quality samples (`gan_jax.metrics.mixture`).
    Returns:
      modes_covered: number of modes of at least one counted sample (float32, 0..K^C).
      high_quality_pct: percentage of samples counted.
      reverse_kl: KL(p_model || p_data) = sum_m p_m log(p_m K^C), p the normalised histogram of
        counted samples and p_data uniform over the K^C modes (the KL of Metz et al. Table 2, in
        the direction VEEGAN / PacGAN use). 0 for a uniform histogram, log(K^C) when every
        sample has one mode, NaN when no sample counts (as the mixtures').
      mode_histogram: (K^C,) counted samples per mode.
    """
    n, channels, k = logits_per_channel.shape
    num_modes = k**channels
    if recognized is None:
        recognized = jnp.ones((n,), bool)
    # Unrecognised samples go to an extra bin that is then dropped.
    ids = jnp.where(recognized, mode_ids(logits_per_channel), num_modes)
    counts = jnp.bincount(ids, length=num_modes + 1)[:num_modes].astype(jnp.float32)
    total = jnp.sum(counts)
    p = counts / jnp.maximum(total, 1.0)
    kl = jnp.sum(jnp.where(p > 0, p * jnp.log(p * num_modes), 0.0))
    return {
        "modes_covered": jnp.sum(counts > 0).astype(jnp.float32),
        "high_quality_pct": 100.0 * jnp.mean(recognized, dtype=jnp.float32),
        "reverse_kl": jnp.where(total > 0, kl, jnp.nan),
        "mode_histogram": counts,
    }


def stacked_mode_metrics(
    logits_per_channel: jax.Array, recognized: jax.Array
) -> dict[str, jax.Array]:
    """Both stacked-mode counts of one set of samples, side by side (`stacked_modes` twice).

    - The field's: every sample, its mode the argmax triple (Metz et al. 2016, Sec. 3.3, "we
      classify each of the three channels with a pretrained classifier"; VEEGAN and PacGAN
      count the same way): "modes_covered", "reverse_kl" and "mode_histogram", the numbers
      their tables can stand beside.
    - The project's: only the `recognized` samples (`recognized_stacks`), each channel on the
      real-digit manifold, so an image the classifier labels without it looking like a digit
      counts for nothing: "recognized_modes_covered", "recognized_reverse_kl" and
      "high_quality_pct", the share of samples recognised.
    """
    field = stacked_modes(logits_per_channel)
    strict = stacked_modes(logits_per_channel, recognized)
    return {
        "modes_covered": field["modes_covered"],
        "reverse_kl": field["reverse_kl"],
        "mode_histogram": field["mode_histogram"],
        "recognized_modes_covered": strict["modes_covered"],
        "recognized_reverse_kl": strict["reverse_kl"],
        "high_quality_pct": strict["high_quality_pct"],
    }


# ------------------------------------------------------------------------------------------------
# Everything at once, for the training loop's evaluation


def to_float_images(images: jax.Array) -> jax.Array:
    """uint8 images in 0..255 -> float32 in [-1, 1] (`gan_jax.parts.data.images.to_unit_range`, as
    the classifier is trained on them); float images are returned as float32."""
    images = jnp.asarray(images)
    if images.dtype == jnp.uint8:
        return to_unit_range(images)
    return images.astype(jnp.float32)


def make_image_metric_fn(
    feature_fn: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
    real_images: jax.Array,
    stacked: bool,
    k: int = 3,
    chunk_size: int = 1024,
    single_images: jax.Array | None = None,
    kid_subsets: int = KID_SUBSETS,
    kid_subset_size: int = KID_SUBSET_SIZE,
) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """Returns `metric_fn(samples) -> dict`, jittable, mirroring `mixture_metrics`.

    `feature_fn(images in [-1, 1] NHWC) -> (features, logits)` is the classifier's
    (`gan_jax.metrics.classifier.make_feature_fn`); logits are (n, K), or (n, C, K) for stacked
    data.
    `real_images` (uint8 0..255 or float in [-1, 1]) are held-out real images: their features,
    FD statistics, k-NN radii and KID kernel means are computed once here (they enter a jitted
    metric_fn as constants, so it does no heavy work on them alone that XLA would
    constant-fold). `samples` are float in [-1, 1] with the real images' shape.

    The dict holds "fd", "precision", "recall", "density", "coverage" (`manifold_metrics`, one
    k), "kid", "kid_std" (`kernel_inception_distance`: `kid_subsets` subsets of up to
    `kid_subset_size`, drawn with fixed keys), "inception_score" and, when `stacked`, the two
    mode counts of `stacked_mode_metrics`: "modes_covered", "reverse_kl", "mode_histogram" (the
    field's, every sample) and "recognized_modes_covered", "recognized_reverse_kl",
    "high_quality_pct" (the `recognized_stacks`, whose reference manifold is the features of
    `single_images`, real one-channel-group images such as a stacked set's base digits). For
    stacked data the IS
    analogue is over the K^C joint labels (up to 1000), FD, KID and the k-NN metrics over the
    per-channel features concatenated.
    """
    real_feats, _ = feature_fn(to_float_images(real_images))
    real_feats = jnp.asarray(real_feats, jnp.float32)
    # Distances and FD are translation invariant; centring on the real mean reduces cancellation.
    # KID's polynomial kernel is not, so it gets the features as they are.
    offset = jnp.mean(real_feats, axis=0)
    real_centred = real_feats - offset
    reference = jax.jit(reference_statistics)(real_centred)
    real_radii = jax.jit(knn_radii_squared, static_argnums=(1, 2))(real_centred, k, chunk_size)
    real_kid_key, fake_kid_key = jax.random.split(jax.random.PRNGKey(0))
    real_kid_index = kid_subset_indices(
        real_kid_key, real_feats.shape[0], kid_subsets, kid_subset_size
    )
    real_kid_within = jax.jit(kernel_means_within)(real_feats, real_kid_index)
    if stacked:
        if single_images is None:
            raise ValueError("stacked metrics need single_images: the reference manifold")
        single_feats, _ = feature_fn(to_float_images(single_images))
        single_feats = jnp.asarray(single_feats, jnp.float32)
        single_offset = jnp.mean(single_feats, axis=0)
        single_centred = single_feats - single_offset
        single_radii = jax.jit(knn_radii_squared, static_argnums=(1, 2))(
            single_centred, k, chunk_size
        )

    def metric_fn(samples: jax.Array) -> dict[str, jax.Array]:
        feats, logits = feature_fn(to_float_images(samples))
        feats = jnp.asarray(feats, jnp.float32)
        centred = feats - offset
        fake_radii = knn_radii_squared(centred, k, chunk_size)
        fake_kid_index = kid_subset_indices(
            fake_kid_key, feats.shape[0], kid_subsets, kid_subset_size
        )
        metrics = {
            "fd": frechet_distance_to_reference(reference, centred),
            **manifold_metrics(real_centred, centred, real_radii, fake_radii, k, chunk_size),
            **kid_from_kernel_means(
                real_kid_within,
                kernel_means_within(feats, fake_kid_index),
                kernel_means_across(real_feats, real_kid_index, feats, fake_kid_index),
            ),
        }
        if stacked:
            channel_feats = feats.reshape(feats.shape[0], logits.shape[1], -1) - single_offset
            recognized = recognized_stacks(channel_feats, single_centred, single_radii, chunk_size)
            metrics["inception_score"] = inception_score(joint_logits(logits))
            metrics.update(stacked_mode_metrics(logits, recognized))
        else:
            metrics["inception_score"] = inception_score(logits)
        return metrics

    return metric_fn
