"""A small classifier per data set, trained by the project itself: the feature space of the
image metrics (`gan_jax.metrics.images`).

  python -m gan_jax.metrics.classifier --data=digits [--cache_dir=DIR] [--ship]

trains (or loads) the classifier of a data set and prints its test accuracy and its path. The
cache lives under `$GAN_JAX_CACHE` or `~/.cache/gan_jax/classifiers`, one directory
`<data set>-<hash>` per data set, config and data (see `cache_key`); a missing entry is trained,
an existing one loaded.

Shipped classifiers: the package carries the trained entries of the experiments' reference
classifiers (`SHIPPED_DIR`; mnist_5k's, which takes minutes to train here), found before the
cache by the same key. A metric's feature space is then one fixed network on every machine (as
FID's Inception is), so the numbers in the experiments' READMEs were computed with the very
weights a fresh clone loads. A changed config or data set has another key and trains as before;
`--ship` copies a cache entry into the package (tests/test_classifier.py checks that every shipped
entry is still the one its data set's default config asks for).

The classifier sees ONE channel group: images (n, H, W, in_channels) as float in [-1, 1]. For
stacked data (channels = G * in_channels, e.g. 3 MNIST digits stacked as RGB, Metz et al. 2016,
Sec. 3.3) the single-digit classifier is applied to each group separately (`make_feature_fn`).
"""

import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.parts.data.images import to_unit_range
from gan_jax.parts.models.dcgan import conv2d

# ------------------------------------------------------------------------------------------------
# Model and config


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training of the classifier. Frozen: hashable, a static jit argument.

    The defaults, an MLP 64 -> 256 (ReLU, the features) -> 10, reach 98.6-99.2% test accuracy
    on sklearn digits (8x8; 3 seeds) in 3-8 s on 2 shared CPU cores, most of it compilation.
    Why these features, measured on digits: with a deeper MLP (64 -> 256 -> 128 -> 10, features
    the 128) the last features are so class-specific that some one-digit sets get a higher FD
    than uniform noise; with this one-hidden-layer net noise gets the highest FD. A small CNN
    (convs 32, 64) took ~200 s to train on this CPU; `default_config` picks the config from the
    images' size and colour.
    """

    conv_features: tuple[int, ...] = ()  # 3x3 convs ("SAME" padding)
    conv_strides: tuple[int, ...] = ()  # one per conv; () means the first 1, the rest 2
    hidden_sizes: tuple[int, ...] = ()  # dense ReLU layers between the convs and the features
    feature_dim: int = 256  # penultimate (ReLU) layer: the features for FD / precision-recall
    num_classes: int = 10
    in_channels: int = 1  # channels of one group (1 for digits / MNIST, 3 for CIFAR-10)
    steps: int = 1000
    batch_size: int = 128
    learning_rate: float = 2e-3  # peak of a cosine decay to 0 over `steps`
    weight_decay: float = 1e-4  # AdamW's decoupled decay
    max_shift: int = 0  # augmentation: random translation by up to this many pixels (0: none)
    seed: int = 0


def default_config(image_shape: Sequence[int]) -> ClassifierConfig:
    """The classifier config for one image of shape (H, W, C) of a data set (for a stacked set,
    one of its base images): it follows the images' size and colour.

    - at most 16 x 16 pixels (sklearn's 8 x 8 digits): the MLP 64 -> 256 -> 10 measured above;
    - larger grey images (MNIST, 28 x 28): two stride-2 convs (32, 64; 28 -> 14 -> 7), shifts
      of up to 2 pixels, 1,000 steps. On mnist_5k (4,000 train / 1,000 held out; `python -m
      gan_jax.metrics.classifier --data=mnist_5k`) it reached 98.5-98.7% held-out accuracy over
      3 training seeds, in 56-74 s each on 2 CPU cores shared with other jobs. Tried and
      dropped (same data, same CPU): the MLP with a 512-unit hidden layer (97.2%, 18 s; this
      config before mnist_5k existed), convs (16, 32) for 1,000 steps (97.9-98.3% over 3 seeds)
      and 1,500 steps (97.7-98.7%), convs (24, 48) for 1,200 steps (98.2%, 1 seed);
    - colour images (CIFAR-10, 32 x 32 x 3): convs (32, 64, 128), shifts of up to 2 pixels and
      5,000 steps, sized for an accelerator.
    """
    height, width, channels = (int(d) for d in image_shape)
    if height * width <= 16 * 16:
        return ClassifierConfig(in_channels=channels)
    if channels == 1:
        return ClassifierConfig(
            in_channels=1, conv_features=(32, 64), conv_strides=(2, 2), max_shift=2
        )
    return ClassifierConfig(
        in_channels=channels, conv_features=(32, 64, 128), max_shift=2, steps=5000
    )


class Conv2D(nn.Module):
    """A 3x3-style 2-D convolution with "SAME" padding: `nn.Conv`'s parameters ("kernel"
    (k, k, C_in, F), "bias" (F,)) and numbers, computed by the DCGAN's `conv2d`.

    Why not `nn.Conv`: on CPU `conv2d` runs as slices and matrix products, where XLA:CPU runs
    convolutions with few channels far below its matmul speed, their gradients most of all. A
    28x28 classifier (convs 16, 32, stride 2, 1,000 steps) trained in 126 s with `nn.Conv` and in
    23 s this way, on the same shared 2-core CPU. Elsewhere `conv2d` is XLA's convolution.
    """

    features: int
    kernel_size: int = 3
    stride: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (k, k, x.shape[-1], self.features)
        )
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return conv2d(x, kernel, self.stride) + bias


class Classifier(nn.Module):
    """Convs (ReLU) -> dense hidden layers (ReLU) -> dense `feature_dim` (ReLU, the features)
    -> dense `num_classes` (the logits). Without convs it is an MLP on the flattened pixels."""

    conv_features: Sequence[int]
    hidden_sizes: Sequence[int]
    feature_dim: int
    num_classes: int
    conv_strides: Sequence[int] = ()  # () : the first conv stride 1, the rest 2

    @nn.compact
    def __call__(self, images: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = images
        strides = self.conv_strides or [1 if i == 0 else 2 for i in range(len(self.conv_features))]
        for i, (width, stride) in enumerate(zip(self.conv_features, strides, strict=True)):
            # Named as nn.Conv names itself: parameters cached before Conv2D still load.
            x = nn.relu(Conv2D(width, 3, stride, name=f"Conv_{i}")(x))
        x = x.reshape(x.shape[0], -1)
        for width in self.hidden_sizes:
            x = nn.relu(nn.Dense(width)(x))
        features = nn.relu(nn.Dense(self.feature_dim)(x))
        logits = nn.Dense(self.num_classes)(features)
        return features, logits


def make_model(config: ClassifierConfig) -> Classifier:
    return Classifier(
        tuple(config.conv_features),
        tuple(config.hidden_sizes),
        config.feature_dim,
        config.num_classes,
        tuple(config.conv_strides),
    )


# ------------------------------------------------------------------------------------------------
# Features


def make_feature_fn(
    params, config: ClassifierConfig, batch_size: int = 1024
) -> Callable[[jax.Array], tuple[jax.Array, jax.Array]]:
    """Returns `features_and_logits(images) -> (features, logits)`, jittable.

    `images` are float in [-1, 1], NHWC. With C == config.in_channels: features (n, feature_dim),
    logits (n, num_classes). With C == G * in_channels, G > 1 (stacked data): each channel group
    is classified on its own; features are concatenated over groups, (n, G * feature_dim), and
    logits are (n, G, num_classes). Images go through the network `batch_size` at a time.
    """
    model = make_model(config)

    def apply_one(image):
        features, logits = model.apply(params, image[None])
        return features[0], logits[0]

    def apply_batched(images):
        n = images.shape[0]
        return jax.lax.map(apply_one, images, batch_size=min(batch_size, n))

    def features_and_logits(images: jax.Array) -> tuple[jax.Array, jax.Array]:
        images = jnp.asarray(images, jnp.float32)
        n, h, w, c = images.shape
        group = config.in_channels
        if c == group:
            return apply_batched(images)
        if c % group:
            raise ValueError(f"images have {c} channels, not a multiple of {group}")
        groups = c // group
        per_group = images.reshape(n, h, w, groups, group).transpose(0, 3, 1, 2, 4)
        features, logits = apply_batched(per_group.reshape(n * groups, h, w, group))
        return features.reshape(n, -1), logits.reshape(n, groups, -1)

    return features_and_logits


# ------------------------------------------------------------------------------------------------
# Training


def _random_shift(key: jax.Array, images: jax.Array, max_shift: int) -> jax.Array:
    """Translates each image by up to `max_shift` pixels, filling with the background -1."""
    if max_shift == 0:
        return images
    n, h, w, _ = images.shape
    pad = ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0))
    padded = jnp.pad(images, pad, constant_values=-1.0)
    offsets = jax.random.randint(key, (n, 2), 0, 2 * max_shift + 1)

    def crop(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


# The classifier's training compiles with XLA's optimisations whatever the process asks: the
# tests set JAX_DISABLE_MOST_OPTIMIZATIONS, which pays for their tiny programs but made the
# mnist_5k classifier's 1,000 steps take 330 s instead of ~100 s (200 steps: 65 s against 28 s),
# and the cached params then depend on the config and data, not on that flag (measured: the
# same params to ~1e-5 with and without it; without this override they differ at 1e-2).
OPTIMIZED = {"xla_backend_optimization_level": 3, "xla_llvm_disable_expensive_passes": False}


@functools.partial(jax.jit, static_argnames="config", compiler_options=OPTIMIZED)
def _fit(config: ClassifierConfig, key: jax.Array, images: jax.Array, labels: jax.Array):
    """Trains from scratch: init, then one `lax.scan` over `config.steps` AdamW steps."""
    model = make_model(config)
    init_key, steps_key = jax.random.split(key)
    params = model.init(init_key, images[:1])
    schedule = optax.cosine_decay_schedule(config.learning_rate, config.steps)
    optimizer = optax.adamw(schedule, weight_decay=config.weight_decay)

    def loss_fn(params, batch, batch_labels):
        _, logits = model.apply(params, batch)
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch_labels).mean()

    def step(carry, step_key):
        params, opt_state = carry
        index_key, shift_key = jax.random.split(step_key)
        index = jax.random.randint(index_key, (config.batch_size,), 0, images.shape[0])
        batch = _random_shift(shift_key, images[index], config.max_shift)
        loss, grads = jax.value_and_grad(loss_fn)(params, batch, labels[index])
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    carry = (params, optimizer.init(params))
    (params, _), losses = jax.lax.scan(step, carry, jax.random.split(steps_key, config.steps))
    return params, losses


def accuracy(params, config: ClassifierConfig, images, labels) -> float:
    """Fraction of `images` (uint8 pixels, NHWC) whose predicted class is `labels`."""
    _, logits = jax.jit(make_feature_fn(params, config))(to_unit_range(jnp.asarray(images)))
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(labels)))


def train_classifier(
    config: ClassifierConfig, train_images, train_labels, test_images, test_labels
) -> tuple[dict, float]:
    """Trains on (train_images uint8 NHWC, train_labels int) -> (params, test accuracy).

    Minibatches are drawn with replacement, keys come from `config.seed`: the same config and
    data give the same params.
    """
    params, _ = _fit(
        config,
        jax.random.key(config.seed),
        to_unit_range(jnp.asarray(train_images)),
        jnp.asarray(train_labels, jnp.int32),
    )
    return params, accuracy(params, config, test_images, test_labels)


# ------------------------------------------------------------------------------------------------
# Cache


class CachedClassifier(NamedTuple):
    params: dict
    config: ClassifierConfig
    test_accuracy: float
    path: str  # the cache directory holding params.msgpack and meta.json
    loaded: bool  # True when read from the cache, False when trained by this call


def default_cache_dir() -> str:
    return os.environ.get("GAN_JAX_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "gan_jax", "classifiers"
    )


def cache_key(config: ClassifierConfig, *arrays) -> str:
    """sha1 (12 hex digits) of the config's fields and of the arrays' dtypes, shapes and bytes."""
    digest = hashlib.sha1(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
    for array in arrays:
        array = np.ascontiguousarray(np.asarray(array))
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:12]


def _save(path: str, params, meta: dict) -> None:
    """Writes params + meta.json into a fresh tmp dir, then renames it to `path` (atomic)."""
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=parent)
    try:
        with open(os.path.join(tmp, "params.msgpack"), "wb") as f:
            f.write(flax.serialization.to_bytes(params))
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        os.rename(tmp, path)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isdir(path):  # lost no race: a real failure
            raise


def _load(path: str) -> tuple[dict, dict]:
    with open(os.path.join(path, "params.msgpack"), "rb") as f:
        state = flax.serialization.msgpack_restore(f.read())
    with open(os.path.join(path, "meta.json")) as f:
        meta = json.load(f)
    return jax.tree.map(jnp.asarray, state), meta


# Entries that ship with the package, read-only; named and laid out as cache entries.
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shipped_classifiers")


def _load_shipped(path: str, config: ClassifierConfig) -> CachedClassifier | None:
    """The shipped entry at `path`, or None when there is none. An unreadable one (a damaged
    install) is left in place, named in one warning, and the classifier is trained instead."""
    if not os.path.isfile(os.path.join(path, "meta.json")):
        return None
    try:
        params, meta = _load(path)
    except Exception as error:  # noqa: BLE001 - msgpack, json and OS errors alike
        warnings.warn(
            f"shipped classifier {path} is unreadable ({type(error).__name__}); training one "
            "into the cache instead (reinstall gan_jax to restore it)",
            stacklevel=3,
        )
        return None
    return CachedClassifier(params, config, meta["test_accuracy"], path, loaded=True)


def load_or_train(
    dataset_name: str,
    train_images,
    train_labels,
    test_images,
    test_labels,
    config: ClassifierConfig | None = None,
    cache_dir: str | None = None,
) -> CachedClassifier:
    """The classifier of `dataset_name`: loaded from the package's shipped entries
    (`SHIPPED_DIR/<name>-<cache_key>/`) or from `cache_dir/<name>-<cache_key>/`, or trained
    (`train_classifier`) and saved in `cache_dir` when neither has it.

    The key hashes the config and all four arrays, so a different config, split or data set gets
    its own directory. Writing is atomic (tmp dir, then rename): a killed process leaves no
    half-written entry. meta.json records the config, the test accuracy, the sizes, the training
    time, the timestamp and the jax version.
    """
    config = config or default_config(np.shape(train_images)[1:])
    cache_dir = cache_dir or default_cache_dir()
    key = cache_key(config, train_images, train_labels, test_images, test_labels)
    shipped = _load_shipped(os.path.join(SHIPPED_DIR, f"{dataset_name}-{key}"), config)
    if shipped is not None:
        return shipped
    path = os.path.join(cache_dir, f"{dataset_name}-{key}")
    os.makedirs(cache_dir, exist_ok=True)
    # Processes sharing a cache (parallel tests, a sweep's hosts) train an entry once: the first
    # trains under the lock, the others wait and load what it saved.
    with open(path + ".lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            cached = _load_cached(path, config)
            if cached is not None:
                return cached
            return _train_and_save(
                dataset_name, path, config, train_images, train_labels, test_images, test_labels
            )
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _load_cached(path: str, config: ClassifierConfig) -> CachedClassifier | None:
    """The cache entry at `path`, or None when absent; an unreadable entry is removed."""
    if not os.path.isfile(os.path.join(path, "meta.json")):
        return None
    try:
        params, meta = _load(path)
        return CachedClassifier(params, config, meta["test_accuracy"], path, loaded=True)
    except Exception as error:  # noqa: BLE001 - msgpack, json and OS errors alike
        warnings.warn(
            f"classifier cache {path} is unreadable ({type(error).__name__}); retraining it",
            stacklevel=3,
        )
        shutil.rmtree(path, ignore_errors=True)
        return None


def _train_and_save(
    dataset_name, path, config, train_images, train_labels, test_images, test_labels
) -> CachedClassifier:
    start = time.time()
    params, test_accuracy = train_classifier(
        config, train_images, train_labels, test_images, test_labels
    )
    meta = {
        "dataset": dataset_name,
        "config": dataclasses.asdict(config),
        "test_accuracy": test_accuracy,
        "num_train": int(np.shape(train_images)[0]),
        "num_test": int(np.shape(test_images)[0]),
        "image_shape": list(np.shape(train_images)[1:]),
        "train_seconds": round(time.time() - start, 2),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "jax_version": jax.__version__,
    }
    _save(path, params, meta)
    return CachedClassifier(params, config, test_accuracy, path, loaded=False)


# ------------------------------------------------------------------------------------------------
# Data for the command


def digits_arrays(seed: int = 0):
    """sklearn's 8x8 digits split by `seed`: (train_images, train_labels, test_images,
    test_labels), as `gan_jax.parts.data.images.load_digits_arrays` loads them."""
    from gan_jax.parts.data.images import load_digits_arrays

    (train_images, train_labels), (test_images, test_labels) = load_digits_arrays(seed)
    return train_images, train_labels, test_images, test_labels


def classifier_name(dataset) -> str:
    """The cache name of a data set's classifier: a stacked set shares its base set's one
    (stacked_digits -> digits), since its classifier reads one channel at a time."""
    return dataset.name.removeprefix("stacked_")


def classifier_for(dataset, cache_dir: str | None = None) -> CachedClassifier:
    """`load_or_train` on an `ImageDataset`'s train and held-out splits (for a stacked set, its
    single-channel base images)."""
    if dataset.num_classes is None:
        raise ValueError(
            f"data.name={dataset.name!r} has no labels: no classifier, so no FD, precision, "
            "recall or modes can be computed for it"
        )
    return load_or_train(
        classifier_name(dataset),
        np.asarray(dataset.images),
        np.asarray(dataset.labels),
        np.asarray(dataset.test_images),
        np.asarray(dataset.test_labels),
        cache_dir=cache_dir,
    )


def ship(result: CachedClassifier, shipped_dir: str = SHIPPED_DIR) -> str:
    """Copies the cache entry of `result` into `shipped_dir` (the package's, by default), where
    every later `load_or_train` of the same key finds it; returns the copy's path."""
    target = os.path.join(shipped_dir, os.path.basename(result.path))
    if os.path.normpath(result.path) != os.path.normpath(target):
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(shipped_dir, exist_ok=True)
        shutil.copytree(result.path, target)
    return target


def main(argv: Sequence[str]) -> None:
    del argv
    from gan_jax.parts.data import make_dataset

    dataset = make_dataset(_DATA.value, tfds_dir=_TFDS_DIR.value)
    start = time.time()
    result = classifier_for(dataset, cache_dir=_CACHE_DIR.value)
    verb = "loaded" if result.loaded else f"trained in {time.time() - start:.1f}s"
    name = classifier_name(dataset)
    print(f"{name}: test accuracy {result.test_accuracy:.4f} ({verb})")
    print(f"cache: {result.path}")
    if _SHIP.value:
        print(f"shipped: {ship(result)}")


if __name__ == "__main__":
    from absl import app, flags

    _DATA = flags.DEFINE_string("data", "digits", "Data set name (as config.data.name).")
    _TFDS_DIR = flags.DEFINE_string("tfds_dir", None, "Prepared tfds data (as data.tfds_dir).")
    _SHIP = flags.DEFINE_bool(
        "ship", False, "Copy the entry into the package (SHIPPED_DIR), as a maintainer does."
    )
    _CACHE_DIR = flags.DEFINE_string(
        "cache_dir", None, "Cache root; default $GAN_JAX_CACHE or ~/.cache/gan_jax/classifiers."
    )
    try:
        app.run(main)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
