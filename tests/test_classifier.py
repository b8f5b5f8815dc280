"""The project's own digits classifier: accuracy, the cache, features, the command."""

import dataclasses
import json
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.metrics import classifier
from gan_jax.parts.data.images import to_unit_range

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def digits():
    return classifier.digits_arrays(seed=0)


@pytest.fixture(scope="module")
def cache_dir():
    # The session's one cache (conftest's $GAN_JAX_CACHE, shared by every xdist worker and the
    # runs the tests start): the digits classifier trains once per session.
    return classifier.default_cache_dir()


@pytest.fixture(scope="module")
def trained(digits, cache_dir):
    start = time.time()
    result = classifier.load_or_train("digits", *digits, cache_dir=cache_dir)
    print(
        f"\ndigits classifier: accuracy {result.test_accuracy:.4f}, "
        f"{'loaded' if result.loaded else 'trained'} in {time.time() - start:.1f}s"
    )
    return result


def test_digits_split_is_fixed_80_20(digits):
    train_x, train_y, test_x, test_y = digits
    assert train_x.shape == (1438, 8, 8, 1) and test_x.shape == (359, 8, 8, 1)
    assert train_x.dtype == np.uint8 and train_x.max() == 255 and train_x.min() == 0
    assert set(np.unique(train_y)) == set(range(10)) and train_y.dtype == np.int32
    again = classifier.digits_arrays(seed=0)
    for a, b in zip(digits, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = classifier.digits_arrays(seed=1)
    assert not np.array_equal(other[2], test_x)


def test_reaches_97_percent_on_digits(trained, digits):
    assert trained.test_accuracy >= 0.97
    assert classifier.accuracy(trained.params, trained.config, digits[2], digits[3]) == (
        pytest.approx(trained.test_accuracy)
    )
    with open(os.path.join(trained.path, "meta.json")) as f:
        meta = json.load(f)
    assert meta["test_accuracy"] == pytest.approx(trained.test_accuracy)
    assert meta["config"] == json.loads(json.dumps(dataclasses.asdict(trained.config)))
    assert meta["jax_version"] == jax.__version__ and meta["num_train"] == 1438


def test_second_call_loads_the_same_params(trained, digits, cache_dir):
    again = classifier.load_or_train("digits", *digits, cache_dir=cache_dir)
    assert again.loaded and again.path == trained.path
    assert again.test_accuracy == trained.test_accuracy
    leaves = jax.tree.leaves_with_path(trained.params)
    loaded_leaves = jax.tree.leaves_with_path(again.params)
    assert [p for p, _ in leaves] == [p for p, _ in loaded_leaves]
    for (_, a), (_, b) in zip(leaves, loaded_leaves, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Nothing half-written is left next to the entries.
    assert not [name for name in os.listdir(cache_dir) if name.startswith(".tmp")]


def test_other_config_or_data_gets_its_own_directory(trained, digits, cache_dir, monkeypatch):
    trainings = []

    def fake_training(config, *arrays):  # the cache logic, without a second compile
        trainings.append(config)
        return trained.params, 0.5

    monkeypatch.setattr(classifier, "train_classifier", fake_training)
    small = dataclasses.replace(trained.config, steps=5)
    other = classifier.load_or_train("digits", *digits, config=small, cache_dir=cache_dir)
    assert trainings == [small]
    assert not other.loaded and other.path != trained.path
    assert classifier.load_or_train("digits", *digits, config=small, cache_dir=cache_dir).loaded
    assert trainings == [small]
    assert os.path.basename(other.path).startswith("digits-")
    assert classifier.cache_key(trained.config, *digits) != classifier.cache_key(
        trained.config, digits[0][:-1], digits[1][:-1], *digits[2:]
    )


def test_feature_fn_shapes_and_stacked_channels(trained, digits):
    config = trained.config
    features_and_logits = jax.jit(classifier.make_feature_fn(trained.params, config, 64))
    images = to_unit_range(digits[2][:100])
    features, logits = features_and_logits(images)
    assert features.shape == (100, config.feature_dim) and logits.shape == (100, 10)

    stacked = np.concatenate([images, images[::-1], images[np.arange(100) % 7]], axis=-1)
    stacked_features, stacked_logits = features_and_logits(stacked)
    assert stacked_features.shape == (100, 3 * config.feature_dim)
    assert stacked_logits.shape == (100, 3, 10)
    np.testing.assert_allclose(stacked_logits[:, 0], logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stacked_logits[:, 1], logits[::-1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        stacked_features[:, config.feature_dim : 2 * config.feature_dim],
        features[::-1],
        rtol=1e-5,
        atol=1e-5,
    )


def test_command_prints_accuracy_and_cache_path(trained, cache_dir):
    # The entry is cached by now: the command only loads it.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_jax.metrics.classifier",
            "--data=digits",
            f"--cache_dir={cache_dir}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert result.returncode == 0, result.stderr
    assert f"test accuracy {trained.test_accuracy:.4f} (loaded)" in result.stdout
    assert f"cache: {trained.path}" in result.stdout


def test_processes_sharing_a_cache_train_an_entry_once(digits, tmp_path, monkeypatch):
    """Two callers at once on one cache: one trains, the other waits for it and loads."""
    import threading

    trainings = []
    entered = threading.Event()

    def slow_training(config, *arrays):
        trainings.append(config)
        entered.set()
        time.sleep(0.5)  # the other caller arrives while this one trains
        return {"w": np.zeros(3, np.float32)}, 0.5

    monkeypatch.setattr(classifier, "train_classifier", slow_training)
    config = classifier.ClassifierConfig(steps=5)
    results = []

    def call():
        results.append(
            classifier.load_or_train("digits", *digits, config=config, cache_dir=str(tmp_path))
        )

    first = threading.Thread(target=call)
    first.start()
    entered.wait(10)
    call()
    first.join()
    assert len(trainings) == 1
    assert sorted(r.loaded for r in results) == [False, True]
    assert results[0].path == results[1].path


def test_the_classifier_config_follows_the_data_set():
    digits = classifier.default_config((8, 8, 1))
    mnist = classifier.default_config((28, 28, 1))
    cifar = classifier.default_config((32, 32, 3))
    assert digits == classifier.ClassifierConfig()  # the MLP measured on digits
    assert mnist.conv_features == (32, 64) and mnist.conv_strides == (2, 2)
    assert mnist.in_channels == 1
    assert cifar.conv_features and cifar.in_channels == 3
    # Each builds a network that takes its images.
    for config, shape in ((digits, (8, 8, 1)), (mnist, (28, 28, 1)), (cifar, (32, 32, 3))):
        model = classifier.make_model(config)
        params = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((2, *shape)))
        features, logits = jax.eval_shape(model.apply, params, jnp.zeros((2, *shape)))
        assert features.shape == (2, config.feature_dim) and logits.shape == (2, 10)


@pytest.mark.parametrize("size, stride, channels", [(28, 2, 1), (14, 2, 16), (7, 2, 3), (9, 1, 2)])
def test_conv2d_equals_xla_convolution(size, stride, channels):
    """The classifier's conv (on CPU: shifted strided slices and matrix products) against
    lax.conv_general_dilated with "SAME" padding, the convolution nn.Conv runs: same
    parameters, same numbers."""
    import flax.linen as nn

    x = jax.random.normal(jax.random.key(0), (3, size, size, channels))
    conv = classifier.Conv2D(5, 3, stride)
    params = conv.init(jax.random.key(1), x)
    expected = (
        jax.lax.conv_general_dilated(
            x,
            params["params"]["kernel"],
            (stride, stride),
            "SAME",
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
            precision=jax.lax.Precision.HIGHEST,
        )
        + params["params"]["bias"]
    )
    got = jax.jit(conv.apply)(params, x)
    assert got.shape == (3, -(-size // stride), -(-size // stride), 5)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # nn.Conv takes the same parameters: a classifier cached before Conv2D still loads.
    reference = nn.Conv(5, (3, 3), strides=(stride, stride), precision="highest")
    np.testing.assert_allclose(reference.apply(params, x), got, rtol=1e-5, atol=1e-5)


def test_conv_classifier_parameters_are_named_as_nn_conv_names_them():
    config = classifier.ClassifierConfig(conv_features=(4, 8), in_channels=3)
    shapes = jax.eval_shape(
        classifier.make_model(config).init, jax.random.key(0), jnp.zeros((1, 32, 32, 3))
    )["params"]
    assert shapes["Conv_0"]["kernel"].shape == (3, 3, 3, 4)
    assert shapes["Conv_1"]["kernel"].shape == (3, 3, 4, 8)
    # The default strides: 1, then 2 (32 -> 32 -> 16); mnist's (2, 2): 28 -> 14 -> 7.
    assert shapes["Dense_0"]["kernel"].shape == (16 * 16 * 8, config.feature_dim)
    mnist = classifier.default_config((28, 28, 1))
    shapes = jax.eval_shape(
        classifier.make_model(mnist).init, jax.random.key(0), jnp.zeros((1, 28, 28, 1))
    )["params"]
    assert shapes["Dense_0"]["kernel"].shape == (7 * 7 * 64, mnist.feature_dim)


@pytest.fixture(scope="module")
def mnist_5k():
    from gan_jax.parts import data

    dataset = data.make_dataset("mnist_5k")
    start = time.time()
    result = classifier.classifier_for(dataset)  # the session's one cache: trained once
    print(
        f"\nmnist_5k classifier: held-out accuracy {result.test_accuracy:.4f}, "
        f"{'loaded' if result.loaded else 'trained'} in {time.time() - start:.1f}s"
    )
    return dataset, result


def test_mnist_5k_classifier_reaches_98_percent_on_the_held_out_digits(mnist_5k):
    dataset, trained = mnist_5k
    assert trained.config == classifier.default_config((28, 28, 1))
    assert trained.test_accuracy >= 0.98
    # Recounted here: the argmax of its logits against the 1,000 held-out labels.
    _, logits = jax.jit(classifier.make_feature_fn(trained.params, trained.config))(
        to_unit_range(dataset.test_images)
    )
    predicted = np.argmax(np.asarray(logits), axis=-1)
    recount = np.mean(predicted == np.asarray(dataset.test_labels))
    assert recount == pytest.approx(trained.test_accuracy, abs=1e-6)  # float32 vs float64
    assert os.path.basename(trained.path).startswith("mnist_5k-")
    # The stacked set reads one channel at a time with the same classifier.
    from gan_jax.parts import data

    stacked = classifier.classifier_for(data.make_dataset("stacked_mnist_5k"))
    assert stacked.loaded and stacked.path == trained.path


def test_every_shipped_classifier_is_the_one_its_data_set_asks_for():
    """A shipped entry is found by its key alone: one whose config or data went stale would be
    skipped silently and trained again. Each must be its data set's default config on its data."""
    from gan_jax.parts import data

    names = sorted(os.listdir(classifier.SHIPPED_DIR))
    assert names == ["mnist_5k-88a68077ba5a"]  # a new one is added here on purpose
    for name in names:
        dataset = data.make_dataset(name.rsplit("-", 1)[0])
        config = classifier.default_config(dataset.images.shape[1:])
        arrays = (dataset.images, dataset.labels, dataset.test_images, dataset.test_labels)
        assert name == f"{dataset.name}-{classifier.cache_key(config, *arrays)}"
        with open(os.path.join(classifier.SHIPPED_DIR, name, "meta.json")) as f:
            meta = json.load(f)
        assert meta["config"] == json.loads(json.dumps(dataclasses.asdict(config)))


def test_a_shipped_entry_is_loaded_before_the_cache_and_a_damaged_one_is_trained_around(
    digits, tmp_path, monkeypatch
):
    trainings = []

    def fake_training(config, *arrays):  # the lookup logic, without a compile
        trainings.append(config)
        return {"w": np.arange(3, dtype=np.float32)}, 0.75

    monkeypatch.setattr(classifier, "train_classifier", fake_training)
    config = classifier.ClassifierConfig(steps=5)
    trained = classifier.load_or_train(
        "digits", *digits, config=config, cache_dir=str(tmp_path / "a")
    )
    shipped_dir = tmp_path / "shipped"
    shipped = classifier.ship(trained, str(shipped_dir))
    assert os.listdir(shipped_dir) == [os.path.basename(trained.path)]
    monkeypatch.setattr(classifier, "SHIPPED_DIR", str(shipped_dir))

    # An empty cache: the shipped entry is loaded, nothing trains or is written to the cache.
    loaded = classifier.load_or_train(
        "digits", *digits, config=config, cache_dir=str(tmp_path / "b")
    )
    assert loaded.loaded and loaded.path == shipped and loaded.test_accuracy == 0.75
    np.testing.assert_array_equal(np.asarray(loaded.params["w"]), np.arange(3))
    assert trainings == [config]
    assert not os.path.exists(tmp_path / "b" / os.path.basename(shipped))

    # A damaged shipped entry: one warning naming it, trained into the cache, left in place.
    with open(os.path.join(shipped, "params.msgpack"), "wb") as f:
        f.write(b"\x00damaged")
    with pytest.warns(UserWarning, match="shipped classifier .* is unreadable") as caught:
        retrained = classifier.load_or_train(
            "digits", *digits, config=config, cache_dir=str(tmp_path / "c")
        )
    assert len(caught) == 1
    assert not retrained.loaded and retrained.path.startswith(str(tmp_path / "c"))
    assert trainings == [config, config]
    assert os.path.isfile(os.path.join(shipped, "params.msgpack"))


def test_the_mnist_5k_classifier_still_trains_from_scratch():
    """The shipped weights spare the suite the 1,000-step training; the conv path it took is
    still run here for 60 steps: the loss falls and held-out digits are read far above chance."""
    from gan_jax.parts import data

    dataset = data.make_dataset("mnist_5k")
    config = dataclasses.replace(classifier.default_config((28, 28, 1)), steps=60)
    params, losses = classifier._fit(
        config,
        jax.random.key(0),
        to_unit_range(jnp.asarray(dataset.images)),
        jnp.asarray(dataset.labels, jnp.int32),
    )
    losses = np.asarray(losses)
    assert losses[-10:].mean() < 0.5 * losses[:10].mean()
    assert classifier.accuracy(params, config, dataset.test_images, dataset.test_labels) > 0.6
