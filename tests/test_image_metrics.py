"""Image metrics: the formulas against references, then the sanity behaviours that show the
metrics mean something (real vs held-out real near the floor, a one-class set collapsed, noise
worst), in the feature space of the project's digits classifier."""

import math
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import scipy.linalg
from conftest import frechet_distance, precision_recall

from gan_jax.metrics import classifier
from gan_jax.metrics import images as image_metrics

# ------------------------------------------------------------------------------------------------
# Fréchet distance


def _frechet_float64(a, b):
    """FD with scipy.linalg.sqrtm in float64: the reference."""
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    sqrt = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(sqrt)


def _random_cov(rng, dim):
    factor = rng.normal(size=(dim, dim)) / math.sqrt(dim)
    return factor @ factor.T + 0.1 * np.eye(dim)


@pytest.mark.parametrize(
    "n_a, n_b, dim",
    [(500, 400, 32), (40, 50, 64)],  # the d x d route; the cross-Gram route (n <= d)
)
def test_frechet_distance_matches_scipy_float64(n_a, n_b, dim):
    rng = np.random.default_rng(0)
    a = rng.multivariate_normal(np.zeros(dim), _random_cov(rng, dim), size=n_a)
    b = rng.multivariate_normal(0.3 * np.ones(dim), _random_cov(rng, dim), size=n_b)
    expected = _frechet_float64(a, b)
    got = float(jax.jit(frechet_distance)(a.astype(np.float32), b.astype(np.float32)))
    assert got == pytest.approx(expected, rel=1e-4)
    stats = jax.jit(image_metrics.feature_statistics)
    from_stats = float(jax.jit(image_metrics.frechet_distance_from_stats)(*stats(a), *stats(b)))
    assert from_stats == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("n", [300, 30])
def test_frechet_distance_of_a_set_with_itself_is_zero_in_float32(n):
    rng = np.random.default_rng(1)
    # Rank deficient, like ReLU features with dead units: 40 dims, rank 20.
    feats = rng.normal(size=(n, 20)) @ rng.normal(size=(20, 40))
    feats = feats.astype(np.float32)
    trace = np.trace(np.cov(feats, rowvar=False))
    assert abs(float(jax.jit(frechet_distance)(feats, feats))) < 1e-5 * trace


def test_frechet_distance_of_large_samples_approaches_the_gaussians_closed_form():
    rng = np.random.default_rng(2)
    dim = 4
    mean_1, mean_2 = np.zeros(dim), np.array([1.0, -0.5, 0.0, 2.0])
    cov_1, cov_2 = _random_cov(rng, dim), _random_cov(rng, dim)
    closed_form = (
        np.sum((mean_1 - mean_2) ** 2)
        + np.trace(cov_1 + cov_2)
        - 2 * np.trace(scipy.linalg.sqrtm(cov_1 @ cov_2).real)
    )
    a = rng.multivariate_normal(mean_1, cov_1, size=20000).astype(np.float32)
    b = rng.multivariate_normal(mean_2, cov_2, size=20000).astype(np.float32)
    assert float(jax.jit(frechet_distance)(a, b)) == pytest.approx(closed_form, rel=0.03)


# ------------------------------------------------------------------------------------------------
# Precision and recall


def _precision_recall_brute_force(real, fake, k):
    """Kynkäänniemi et al. 2019, Sec. 2, literally: float64 differences, no matmul trick."""

    def radii(x):
        dist = np.linalg.norm(x[:, None] - x[None], axis=-1)
        np.fill_diagonal(dist, np.inf)
        return np.sort(dist, axis=1)[:, k - 1]  # k-th nearest neighbour, itself excluded

    def inside(queries, centers):
        dist = np.linalg.norm(queries[:, None] - centers[None], axis=-1)
        return np.any(dist <= radii(centers)[None], axis=1)

    return inside(fake, real).sum(), inside(real, fake).sum()


@pytest.mark.parametrize("shift, k", [(0.0, 3), (1.0, 3), (0.5, 5)])
def test_precision_recall_counts_equal_brute_force(shift, k):
    rng = np.random.default_rng(3)
    real = rng.normal(size=(150, 8))
    fake = rng.normal(size=(120, 8)) * 1.3 + shift
    precise_count, recall_count = _precision_recall_brute_force(real, fake, k)
    got = jax.jit(precision_recall, static_argnames=("k", "chunk_size"))(
        real.astype(np.float32), fake.astype(np.float32), k=k, chunk_size=32
    )
    assert round(float(got["precision"]) * 120) == precise_count
    assert round(float(got["recall"]) * 150) == recall_count
    assert 0 < precise_count < 120 or shift == 0.0


@pytest.mark.parametrize("k, chunk_size", [(1, 8), (3, 16), (5, 64)])
def test_knn_radii_equal_a_sort_even_with_duplicate_rows(k, chunk_size):
    """The k-th nearest other row, by numpy's full sort of float64 distances with the row itself
    left out; rows 0 and 1, repeated 2 and 4 times, have 1 and 3 neighbours at distance 0, each
    counted once (37 rows: the last chunk is padded)."""
    rng = np.random.default_rng(5)
    feats = rng.normal(size=(33, 6))
    feats = np.concatenate([feats, feats[:1], feats[1:2].repeat(3, axis=0)])
    dist = np.sum((feats[:, None] - feats[None]) ** 2, axis=-1)
    np.fill_diagonal(dist, np.inf)
    want = np.sort(dist, axis=1)[:, k - 1]
    got = jax.jit(image_metrics.knn_radii_squared, static_argnums=(1, 2))(
        feats.astype(np.float32), k, chunk_size
    )
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    zero = got < 1e-4  # the matmul form leaves float32 round-off where the distance is 0
    assert zero[0] == (k <= 1) and zero[1] == (k <= 3)  # 1 and 3 copies


def _density_coverage_brute_force(real, fake, k):
    """Naeem et al. 2020, Eqs. 3-4, literally: float64 differences, no matmul trick."""
    real_dist = np.linalg.norm(real[:, None] - real[None], axis=-1)
    np.fill_diagonal(real_dist, np.inf)
    radii = np.sort(real_dist, axis=1)[:, k - 1]
    inside = np.linalg.norm(fake[:, None] - real[None], axis=-1) <= radii[None]  # (M, N)
    return inside.sum() / (k * len(fake)), inside.any(axis=0).mean()


@pytest.mark.parametrize("shift, k", [(0.0, 3), (1.0, 3), (0.5, 5)])
def test_density_coverage_equal_brute_force(shift, k):
    rng = np.random.default_rng(4)
    real = rng.normal(size=(150, 8))
    fake = rng.normal(size=(120, 8)) * 0.8 + shift
    density, coverage = _density_coverage_brute_force(real, fake, k)
    got = jax.jit(precision_recall, static_argnames=("k", "chunk_size"))(
        real.astype(np.float32), fake.astype(np.float32), k=k, chunk_size=32
    )
    assert float(got["density"]) == pytest.approx(density, abs=0.5 / (k * 120))
    assert round(float(got["coverage"]) * 150) == round(coverage * 150)


def test_density_and_coverage_known_cases():
    # Two samples of one distribution: E[density] = 1 and, for k = 5 and M = N = 1000,
    # E[coverage] = 1 - prod_{i=1..5} (N - i) / (2N - i) = 0.969 (Naeem et al. 2020, Sec. 4).
    rng = np.random.default_rng(5)
    real, fake = (rng.normal(size=(1000, 16)).astype(np.float32) for _ in range(2))
    metrics = jax.jit(precision_recall, static_argnames="k")
    same = metrics(real, fake, k=5)
    expected_coverage = 1 - np.prod([(1000 - i) / (2000 - i) for i in range(1, 6)])
    assert float(same["density"]) == pytest.approx(1.0, abs=0.1)
    assert float(same["coverage"]) == pytest.approx(expected_coverage, abs=0.02)
    far = metrics(real, fake + 10.0, k=5)
    assert float(far["density"]) == 0.0 and float(far["coverage"]) == 0.0
    # One fake outlier far from a tight cluster: its ball (radius: the distance to the cluster)
    # holds many real points, so recall jumps; coverage, from the real balls, does not move
    # (Naeem et al. 2020, Sec. 3's motivating example). Measured: recall 0.03 -> 0.42.
    cluster = fake[:100] * 0.1
    outlier = np.concatenate([cluster, np.full((1, 16), 30.0, np.float32)])
    before, after = metrics(real, cluster, k=5), metrics(real, outlier, k=5)
    assert float(after["recall"]) - float(before["recall"]) > 0.3
    assert float(after["coverage"]) == float(before["coverage"])


# ------------------------------------------------------------------------------------------------
# KID


def _kid_float64(a, b, index_a, index_b):
    """Bińkowski et al. 2018's unbiased MMD^2, cubic kernel, per subset, in float64."""
    values = []
    for ia, ib in zip(index_a, index_b, strict=True):
        x, y = a[ia].astype(np.float64), b[ib].astype(np.float64)
        kxx, kyy, kxy = ((p @ q.T / a.shape[1] + 1.0) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        m, n = len(x), len(y)
        values.append(
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean()
        )
    return np.mean(values), np.std(values)


def test_kid_matches_numpy_float64():
    # Subsets of 100 from 120 rows; from 80 rows all 80 (a subset is never larger than its set).
    n_a, n_b, subset_size = 120, 80, 100
    rng = np.random.default_rng(6)
    a = np.abs(rng.normal(size=(n_a, 32))).astype(np.float32)  # ReLU-like features
    b = (np.abs(rng.normal(size=(n_b, 32))) * 1.2 + 0.1).astype(np.float32)
    key = jax.random.PRNGKey(3)
    got = jax.jit(image_metrics.kernel_inception_distance, static_argnums=(2, 3))(
        a, b, 7, subset_size, key
    )
    key_a, key_b = jax.random.split(key)
    index_a = np.asarray(image_metrics.kid_subset_indices(key_a, n_a, 7, subset_size))
    index_b = np.asarray(image_metrics.kid_subset_indices(key_b, n_b, 7, subset_size))
    assert index_a.shape == (7, min(subset_size, n_a)) and index_b.shape[1] == min(subset_size, n_b)
    assert all(len(set(row)) == len(row) for row in index_a)  # no repeats within a subset
    mean, std = _kid_float64(a, b, index_a, index_b)
    assert float(got["kid"]) == pytest.approx(mean, rel=1e-4, abs=1e-5)
    assert float(got["kid_std"]) == pytest.approx(std, rel=1e-3, abs=1e-5)


def test_kid_is_unbiased_for_one_distribution():
    # Two samples of one Gaussian: MMD^2_u is 0 in expectation, so the mean over 50 subsets of
    # 100 is within a few standard errors of 0; a shifted set is far above it.
    rng = np.random.default_rng(7)
    a, b = (np.abs(rng.normal(size=(1000, 16))).astype(np.float32) for _ in range(2))
    kid = jax.jit(image_metrics.kernel_inception_distance, static_argnums=(2, 3))
    same = kid(a, b, 50, 100)
    assert abs(float(same["kid"])) < 3 * float(same["kid_std"]) / math.sqrt(50)
    shifted = kid(a, b + 0.3, 50, 100)
    assert float(shifted["kid"]) > 20 * float(same["kid_std"])


# ------------------------------------------------------------------------------------------------
# Inception-score analogue and stacked modes


def test_inception_score_limits_and_a_hand_made_case():
    inception_score = jax.jit(image_metrics.inception_score)
    confident_uniform = 50.0 * jax.nn.one_hot(jnp.arange(100) % 10, 10)
    assert float(inception_score(confident_uniform)) == pytest.approx(10.0, rel=1e-4)
    one_class = 50.0 * jax.nn.one_hot(jnp.zeros(100, jnp.int32), 10)
    assert float(inception_score(one_class)) == pytest.approx(1.0, abs=1e-4)

    probs = np.array([[0.8, 0.2], [0.3, 0.7]])
    marginal = probs.mean(0)
    kl = np.sum(probs * np.log(probs / marginal), axis=1)
    expected = np.exp(kl.mean())
    got = float(inception_score(jnp.log(jnp.asarray(probs, jnp.float32))))
    assert got == pytest.approx(expected, rel=1e-5)


def _one_hot_triples(digits):
    return 30.0 * jax.nn.one_hot(jnp.asarray(digits), 10)  # (n, 3, 10)


def test_stacked_modes_uniform_and_single_mode():
    all_triples = np.stack(np.unravel_index(np.arange(1000), (10, 10, 10)), axis=1)
    uniform = jax.jit(image_metrics.stacked_modes)(_one_hot_triples(np.tile(all_triples, (2, 1))))
    assert float(uniform["modes_covered"]) == 1000.0
    assert float(uniform["reverse_kl"]) == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_array_equal(uniform["mode_histogram"], np.full(1000, 2.0))

    single = jax.jit(image_metrics.stacked_modes)(_one_hot_triples(np.tile([[3, 0, 7]], (50, 1))))
    assert float(single["modes_covered"]) == 1.0
    assert float(single["reverse_kl"]) == pytest.approx(math.log(1000), rel=1e-5)
    assert float(single["mode_histogram"][307]) == 50.0  # mode id = 100 d1 + 10 d2 + d3


def test_both_stacked_counts_side_by_side_on_a_hand_made_case():
    # Six samples: modes 307, 307, 123, 999 recognised; 555 and 123 not (say, noise that the
    # classifier labels anyway). The field's count takes all six, ours the first four.
    triples = [[3, 0, 7], [3, 0, 7], [1, 2, 3], [9, 9, 9], [5, 5, 5], [1, 2, 3]]
    recognized = jnp.array([True, True, True, True, False, False])
    got = jax.jit(image_metrics.stacked_mode_metrics)(_one_hot_triples(triples), recognized)
    assert float(got["modes_covered"]) == 4.0  # 307, 123, 999, 555
    assert float(got["recognized_modes_covered"]) == 3.0  # 307, 123, 999
    assert float(got["high_quality_pct"]) == pytest.approx(100 * 4 / 6)
    # KL(p || uniform over 1000) = sum_m p_m log(1000 p_m), by hand.
    field = np.array([2, 2, 1, 1]) / 6  # 307, 123, 999, 555
    strict = np.array([2, 1, 1]) / 4  # 307, 123, 999
    for key, p in (("reverse_kl", field), ("recognized_reverse_kl", strict)):
        assert float(got[key]) == pytest.approx(np.sum(p * np.log(1000 * p)), rel=1e-5), key
    expected = np.zeros(1000)
    expected[[307, 123, 999, 555]] = [2, 2, 1, 1]
    np.testing.assert_array_equal(got["mode_histogram"], expected)  # the field's, all samples


def test_joint_logits_give_the_product_of_channel_probabilities():
    logits = jax.random.normal(jax.random.key(0), (5, 3, 10))
    joint = jnp.exp(jax.jit(image_metrics.joint_logits)(logits))  # (5, 1000)
    probs = jax.nn.softmax(logits, axis=-1)
    expected = jnp.einsum("ni,nj,nk->nijk", probs[:, 0], probs[:, 1], probs[:, 2]).reshape(5, -1)
    np.testing.assert_allclose(joint, expected, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------------------------
# Sanity behaviours with the digits classifier


@pytest.fixture(scope="module")
def digits():
    return classifier.digits_arrays(seed=0)


@pytest.fixture(scope="module")
def features_and_logits(digits):
    trained = classifier.load_or_train("digits", *digits)  # the session's one cache (conftest)
    assert trained.test_accuracy >= 0.97
    return jax.jit(classifier.make_feature_fn(trained.params, trained.config))


@pytest.fixture(scope="module")
def scores(digits, features_and_logits):
    """Metrics of named sets against the held-out (test) split, 360 images."""
    train_x, train_y, test_x, _ = digits
    rng = np.random.default_rng(0)
    metric_fn = jax.jit(image_metrics.make_image_metric_fn(features_and_logits, test_x, False))
    sets = {"real": train_x[rng.choice(len(train_x), 360, replace=False)]}
    for digit in range(10):  # 128 of the ~140 training images of one digit: one shape, one jit
        sets[f"collapsed_{digit}"] = rng.permutation(train_x[train_y == digit])[:128]
    sets["noise"] = rng.uniform(-1.0, 1.0, size=(360, 8, 8, 1)).astype(np.float32)
    results = {}
    for name, images in sets.items():
        metrics = metric_fn(image_metrics.to_float_images(images))
        results[name] = {key: float(value) for key, value in metrics.items()}
        print(name, {key: round(value, 3) for key, value in results[name].items()})
    return results


def test_real_vs_held_out_real_is_near_the_floor(scores):
    # Measured: fd 4.9 (finite-sample bias of 360 samples in 256 dims), precision 0.92, recall
    # 0.93, IS 9.66 (of 10); every collapsed set has fd >= 83.
    # KID 0.002 against at least 1.59 for a collapsed set; density 1.03, coverage 0.90 (its
    # expectation for k = 3, N = 359, M = 360 is 1 - prod_i (N - i) / (N + M - i) = 0.876).
    real = scores["real"]
    for digit in range(10):
        assert real["fd"] < 0.1 * scores[f"collapsed_{digit}"]["fd"]
        assert real["kid"] < 0.01 * scores[f"collapsed_{digit}"]["kid"]
    assert real["precision"] >= 0.85 and real["recall"] >= 0.85
    assert real["density"] == pytest.approx(1.0, abs=0.15) and real["coverage"] >= 0.8
    assert real["inception_score"] > 9.0


def test_a_single_digit_is_collapsed(scores):
    # Measured over the 10 digits: recall 0.07-0.13, precision 0.89-0.96, IS 1.005-1.024;
    # coverage 0.08-0.15 while density stays 0.79-1.17 (the samples are real digits: fidelity
    # is intact, diversity is gone), KID 1.6-6.8.
    for digit in range(10):
        collapsed = scores[f"collapsed_{digit}"]
        assert collapsed["recall"] < 0.3, digit
        assert collapsed["coverage"] < 0.3, digit
        assert collapsed["precision"] > 0.8 and collapsed["density"] > 0.6, digit
        assert collapsed["kid"] > 1.0, digit
        assert collapsed["inception_score"] < 1.1, digit


def test_noise_scores_worst(scores):
    # Measured: fd 221 against at most 189 for a collapsed set; precision = recall = density =
    # coverage = 0; KID 5.5 (two collapsed sets score higher: KID weighs the mean shift more).
    noise = scores["noise"]
    assert noise["fd"] > max(scores[name]["fd"] for name in scores if name != "noise")
    assert noise["precision"] <= 0.01 and noise["recall"] <= 0.01
    assert noise["density"] <= 0.01 and noise["coverage"] <= 0.01
    assert noise["kid"] > 100 * scores["real"]["kid"]


def _stack(rng, images, labels, n, first_digit=None):
    """n stacked images (Metz et al. 2016, Sec. 3.3): 3 random digits as 3 channels."""
    index = rng.integers(0, len(images), size=(n, 3))
    if first_digit is not None:
        index[:, 0] = rng.choice(np.flatnonzero(labels == first_digit), n)
    return np.concatenate([images[index[:, c]] for c in range(3)], axis=-1)


def test_stacked_modes_real_vs_collapsed(digits, features_and_logits):
    train_x, train_y, test_x, test_y = digits
    rng = np.random.default_rng(0)

    def modes(images):
        _, logits = features_and_logits(image_metrics.to_float_images(images))
        return {
            k: float(v)
            for k, v in jax.jit(image_metrics.stacked_modes)(logits).items()
            if k != "mode_histogram"
        }

    real = modes(_stack(rng, test_x, test_y, 2000))
    collapsed = modes(_stack(rng, train_x, train_y, 2000, first_digit=3))
    print("stacked real", real, "collapsed", collapsed)
    # 2000 draws of 1000 equally likely modes cover 1000 (1 - e^-2) = 865 on average;
    # measured 845 (classifier errors), KL 0.31. Collapsed: exactly 100, KL 2.33 ~ log(10) + 0.03.
    assert real["modes_covered"] > 700 and real["reverse_kl"] < 0.5
    assert collapsed["modes_covered"] <= 100 and collapsed["reverse_kl"] > math.log(10) - 0.1


@pytest.fixture(scope="module")
def single_digit_manifold(digits, features_and_logits):
    """Features of the 1,438 training digits, centred, and their k-NN radii (k = 3): the
    manifold a stacked channel must lie on to count (what `metrics.for_dataset` builds)."""
    feats, _ = features_and_logits(image_metrics.to_float_images(digits[0]))
    offset = jnp.mean(feats, axis=0)
    radii = jax.jit(image_metrics.knn_radii_squared)(feats - offset)
    return offset, feats - offset, radii


def _untrained_images(generator, z):
    """An untrained G's images of `z`, init and apply jitted (eager flax dispatches each op:
    seconds for a DCGAN)."""
    params = jax.jit(generator.init)(jax.random.PRNGKey(0), z[:2])
    return jax.jit(generator.apply)(params, z)


def _recognised_modes(images, features_and_logits, manifold):
    offset, reference, radii = manifold
    feats, logits = features_and_logits(image_metrics.to_float_images(images))
    channel_feats = feats.reshape(feats.shape[0], 3, -1) - offset
    recognized = jax.jit(image_metrics.recognized_stacks)(channel_feats, reference, radii)
    result = jax.jit(image_metrics.stacked_modes)(logits, recognized)
    return {k: float(v) for k, v in result.items() if k != "mode_histogram"}


def test_stacked_modes_an_untrained_g_and_noise_cannot_game(
    digits, features_and_logits, single_digit_manifold
):
    from gan_jax.parts import models

    train_x, train_y, test_x, test_y = digits
    rng = np.random.default_rng(2)
    # experiments/stacked_digits's G at initialisation: counted by argmax alone it "covered"
    # 382-461 of the 1,000 modes, and uniform noise 656.
    g_config = ml_collections.ConfigDict(
        {"name": "dcgan", "latent_dim": 64, "base_features": 32, "upsample": "transpose"}
    )
    generator = models.make_generator(g_config, (8, 8, 3))
    z = jax.random.normal(jax.random.PRNGKey(1), (2000, 64))
    untrained = _untrained_images(generator, z)
    noise = rng.uniform(-1.0, 1.0, size=(2000, 8, 8, 3)).astype(np.float32)
    # 8,000 held-out real stacks, 81% of them counted (measured): 1000 (1 - e^-6.5) = 998.5
    # modes expected.
    real = _stack(rng, test_x, test_y, 8_000)
    scores = {
        name: _recognised_modes(images, features_and_logits, single_digit_manifold)
        for name, images in (("untrained", untrained), ("noise", noise), ("real", real))
    }
    print(scores)
    for name in ("untrained", "noise"):
        assert scores[name]["modes_covered"] <= 5, name
        assert scores[name]["high_quality_pct"] < 1.0, name
    assert scores["real"]["modes_covered"] >= 995
    assert scores["real"]["high_quality_pct"] > 70.0
    # Finite-sample KL of ~6,500 uniform draws over 1,000 modes: ~999 / (2 * 6500) = 0.08;
    # measured 0.12 (classifier errors make some modes likelier).
    assert scores["real"]["reverse_kl"] < 0.2


def test_stacked_modes_of_nothing_recognised_has_no_kl():
    logits = _one_hot_triples(np.tile([[3, 0, 7]], (50, 1)))
    none = jax.jit(image_metrics.stacked_modes)(logits, jnp.zeros(50, bool))
    assert float(none["modes_covered"]) == 0.0 and float(none["high_quality_pct"]) == 0.0
    assert math.isnan(float(none["reverse_kl"]))
    half = jax.jit(image_metrics.stacked_modes)(logits, jnp.arange(50) < 25)
    assert float(half["mode_histogram"][307]) == 25.0 and float(half["high_quality_pct"]) == 50.0


def test_stacked_metric_fn_jits_and_returns_everything(digits, features_and_logits):
    train_x, train_y, test_x, test_y = digits
    rng = np.random.default_rng(1)
    metric_fn = jax.jit(
        image_metrics.make_image_metric_fn(
            features_and_logits,
            _stack(rng, test_x, test_y, 256),
            stacked=True,
            single_images=train_x,
            kid_subsets=10,
        )
    )
    start = time.time()
    metrics = metric_fn(image_metrics.to_float_images(_stack(rng, test_x, test_y, 256)))
    jax.block_until_ready(metrics)
    print(f"stacked metric_fn, 256 samples, with compilation: {time.time() - start:.1f}s")
    assert set(metrics) == {
        "fd",
        "precision",
        "recall",
        "density",
        "coverage",
        "kid",
        "kid_std",
        "inception_score",
        "modes_covered",
        "high_quality_pct",
        "reverse_kl",
        "mode_histogram",
        "recognized_modes_covered",
        "recognized_reverse_kl",
    }
    assert metrics["mode_histogram"].shape == (1000,)
    assert float(metrics["mode_histogram"].sum()) == 256  # the field's count: every sample
    assert float(metrics["high_quality_pct"]) > 60.0
    # Recognised stacks are some of all stacks: never more modes.
    assert 0 < float(metrics["recognized_modes_covered"]) <= float(metrics["modes_covered"])
    assert float(metrics["precision"]) > 0.5 and float(metrics["recall"]) > 0.5
    assert float(metrics["density"]) > 0.5 and float(metrics["coverage"]) > 0.5
    assert abs(float(metrics["kid"])) < 0.05 * float(metrics["fd"])
    assert float(metrics["inception_score"]) > 50.0


# ------------------------------------------------------------------------------------------------
# Real MNIST digits (mnist_5k, stacked_mnist_5k): the metrics through `metrics.for_dataset`, and
# the known cases of both stacked-mode counts


@pytest.fixture(scope="module")
def mnist_sets():
    from gan_jax.parts import data

    return data.make_dataset("mnist_5k"), data.make_dataset("stacked_mnist_5k")


def test_mnist_5k_metrics_tell_real_collapsed_and_noise_apart(mnist_sets):
    from gan_jax import metrics

    mnist, _ = mnist_sets
    metric_fn = jax.jit(metrics.for_dataset(mnist))  # against the 1,000 held-out digits
    train_x, train_y = np.asarray(mnist.images), np.asarray(mnist.labels)
    rng = np.random.default_rng(0)
    sets = {  # 400 images each: one shape, one compile
        "real": train_x[rng.choice(4000, 400, replace=False)],
        "one digit (3)": train_x[train_y == 3],
        "noise": rng.uniform(-1.0, 1.0, size=(400, 28, 28, 1)).astype(np.float32),
    }
    scores = {
        name: {k: float(v) for k, v in metric_fn(image_metrics.to_float_images(x)).items()}
        for name, x in sets.items()
    }
    for name, values in scores.items():
        print(f"mnist_5k, {name}:", {k: round(v, 3) for k, v in values.items()})
    real, collapsed, noise = scores["real"], scores["one digit (3)"], scores["noise"]
    assert real["fd"] < 0.1 * collapsed["fd"] and collapsed["fd"] < noise["fd"]
    assert real["kid"] < 0.01 * collapsed["kid"]
    assert real["precision"] > 0.8 and real["recall"] > 0.8
    # Coverage of M = 400 against N = 1,000 of one distribution: 1 - prod_{i=1..3} (N - i) /
    # (N + M - i) = 0.636 in expectation (Naeem et al. 2020, Sec. 4), not 1.
    expected = 1 - np.prod([(1000 - i) / (1400 - i) for i in range(1, 4)])
    assert real["coverage"] == pytest.approx(expected, abs=0.08)
    assert real["density"] == pytest.approx(1.0, abs=0.2) and real["inception_score"] > 9.0
    # Collapse: real digits (fidelity kept), one tenth of the real manifold (diversity gone).
    assert collapsed["precision"] > 0.8 and collapsed["coverage"] < 0.2
    assert collapsed["recall"] < 0.2 and collapsed["inception_score"] < 1.2
    assert max(noise[k] for k in ("precision", "recall", "density", "coverage")) <= 0.01


KNOWN_CASE_SAMPLES = 10_000  # stacks of real digits per known case (Metz et al. count 10,000)


@pytest.fixture(scope="module")
def stacked_counts(mnist_sets):
    """Both stacked-mode counts (`stacked_mode_metrics`) of named sets of stacks, with the
    mnist_5k classifier and the manifold of its 4,000 training digits (`recognized_stacks`), as
    `metrics.for_dataset` builds them for stacked_mnist_5k.

    Stacks of real digits are scored from their digits: the classifier reads each channel on
    its own (tests/test_classifier.py) and a stack is recognised when each of its channels is
    (`recognized_stacks`' `all`), so each of the 5,000 digits is read and tested once, as a
    one-channel stack, and 10,000 stacks gather those. An untrained G and noise make 1,000 new
    images each, scored whole.
    """
    from gan_jax.parts import models

    _, stacked = mnist_sets
    trained = classifier.classifier_for(stacked)  # the session's one cache: trained once
    feature_fn = jax.jit(classifier.make_feature_fn(trained.params, trained.config))
    train_feats, _ = feature_fn(image_metrics.to_float_images(stacked.images))
    offset = jnp.mean(train_feats, axis=0)
    reference = train_feats - offset
    radii = jax.jit(image_metrics.knn_radii_squared)(reference)
    recognized_fn = jax.jit(image_metrics.recognized_stacks)
    modes_fn = jax.jit(image_metrics.stacked_mode_metrics)

    def counts(logits, recognized):  # (n, 3, 10) and (n,)
        result = modes_fn(logits, recognized)
        return {k: float(v) for k, v in result.items() if k != "mode_histogram"}

    splits = {}
    for split, images, labels in (
        ("train", stacked.images, stacked.labels),
        ("test", stacked.test_images, stacked.test_labels),
    ):
        feats, logits = feature_fn(image_metrics.to_float_images(images))
        recognized = recognized_fn((feats - offset)[:, None], reference, radii)
        splits[split] = (np.asarray(logits), np.asarray(recognized), np.asarray(labels))

    def stacks_of(split, index):  # index (n, 3) into the split's digits
        logits, recognized, labels = splits[split]
        result = counts(logits[index], recognized[index].all(axis=1))
        return result, labels[index], logits[index].argmax(-1)

    n, rng = KNOWN_CASE_SAMPLES, np.random.default_rng(0)
    results, reads = {}, {}
    results["held-out real"], *_ = stacks_of("test", rng.integers(0, 1000, (n, 3)))
    # A G that only ever draws digits 0-4, on every channel: training digits 0-4, all of them
    # or only those the classifier reads as their label.
    train_labels, train_reads = splits["train"][2], splits["train"][0].argmax(-1)
    for name, pool in (
        ("digits 0-4", train_labels < 5),
        ("digits 0-4, read right", (train_labels < 5) & (train_reads == train_labels)),
    ):
        index = rng.choice(np.flatnonzero(pool), size=(n, 3))
        results[name], labels, predicted = stacks_of("train", index)
        reads[name] = (labels, predicted)
    # configs/metz_stacked_mnist.py's G (7x7 -> 14x14 -> 28x28x3) at an eighth of its width: an
    # untrained G's images look alike at any width, and this one is 64x cheaper to run.
    g_config = ml_collections.ConfigDict(
        {"name": "dcgan", "latent_dim": 100, "base_features": 8, "upsample": "transpose"}
    )
    generator = models.make_generator(g_config, (28, 28, 3))
    z = jax.random.normal(jax.random.PRNGKey(1), (1000, 100))
    for name, images in (
        ("untrained G", _untrained_images(generator, z)),
        ("uniform noise", rng.uniform(-1.0, 1.0, size=(1000, 28, 28, 3)).astype(np.float32)),
    ):
        feats, logits = feature_fn(image_metrics.to_float_images(images))
        channel_feats = feats.reshape(1000, 3, -1) - offset
        results[name] = counts(logits, recognized_fn(channel_feats, reference, radii))
    for name, values in results.items():
        print(f"stacked_mnist_5k, {name}:", {k: round(v, 4) for k, v in values.items()})
    return results, reads


def test_held_out_real_stacks_cover_at_least_990_modes_on_both_counts(stacked_counts):
    real = stacked_counts[0]["held-out real"]
    assert real["modes_covered"] >= 990 and real["recognized_modes_covered"] >= 990
    # 10,000 uniform draws over 1,000 modes: KL(p || uniform) ~ (1000 - 1) / (2 * 10,000) = 0.05
    # from the finite sample alone (~0.07 for the ~7,000 recognised), a little more where the
    # classifier errs.
    assert real["reverse_kl"] < 0.1 and real["recognized_reverse_kl"] < 0.15
    assert real["high_quality_pct"] > 60.0


def test_a_g_of_digits_0_to_4_covers_125_modes_and_one_per_misread_stack(stacked_counts):
    results, reads = stacked_counts
    # Digits the classifier reads right: 5^3 = 125 modes, each drawn 80 times on average, so all
    # of them and none beyond, on both counts; uniform over 125 of 1,000: KL = log 8.
    right = results["digits 0-4, read right"]
    assert right["modes_covered"] == right["recognized_modes_covered"] == 125
    assert right["reverse_kl"] == pytest.approx(math.log(8), abs=0.02)
    assert right["high_quality_pct"] == 100.0  # training digits lie on their own manifold
    # Any training digits 0-4: a stack with a misread channel lands in a mode of its own reading,
    # so the count is at most 125 plus the misread stacks' distinct readings (counted here from
    # the single-digit predictions; measured: 146).
    labels, predicted = reads["digits 0-4"]
    readings = {tuple(row) for row in predicted}
    extra = {row for row in readings if max(row) >= 5}  # only a misread channel gives these
    assert extra <= {tuple(row) for row in predicted[np.any(labels != predicted, axis=1)]}
    counts = results["digits 0-4"]
    assert counts["modes_covered"] == len(readings) <= 125 + len(extra)
    assert counts["modes_covered"] == counts["recognized_modes_covered"]
    assert counts["reverse_kl"] == pytest.approx(math.log(8), abs=0.02)


def test_an_untrained_g_and_noise_count_almost_nothing_on_the_recognised_count(stacked_counts):
    results, _ = stacked_counts
    for name in ("untrained G", "uniform noise"):
        # Measured: noise 0 of 1,000 stacks; the untrained G 0 or 3 (one mode), depending on
        # the classifier's training numerics (README).
        counts = results[name]
        assert counts["recognized_modes_covered"] <= 5 and counts["high_quality_pct"] < 1.0, name
        # The field's count takes them anyway: at 28x28 this classifier reads such images as
        # one or two digits (README), so their modes are few and their KL near log(1000).
        assert counts["modes_covered"] >= 1 and counts["reverse_kl"] > 0.5 * math.log(1000)
