"""FID-Inception in Flax: pytorch-fid's network, loaded from its weights file, for FID and KID
as papers report them.

FID (Heusel et al. 2017, Eq. 6) is the Fréchet distance between Gaussians fitted to the pool3
features (2048-d, after the final average pool) of Inception v3 on real and generated images.
Numbers are comparable between papers only on the same network and preprocessing; the field's
reference is pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`, TensorFlow's FID Inception
(`inception-2015-12-05`) ported to PyTorch. This module rebuilds that network (torchvision's
Inception v3 with pytorch-fid's `FIDInceptionA/C/E_1/E_2` blocks: average pools that ignore
padding, a max pool in the last block) and reads the file itself, without torch:

  - images in [-1, 1] (NHWC, 1 or 3 channels; grey is repeated to RGB as pytorch-fid's PIL
    loader does) are resized to 299x299 bilinearly with align_corners=False and no
    antialiasing, PyTorch's `F.interpolate` as pytorch-fid calls it (`resize_bilinear`);
    pytorch-fid scales [0, 1] inputs to [-1, 1] after resizing, which commutes with it;
  - BatchNorm (eps 0.001, running statistics) is folded into each convolution at load.

The weights never download: a user passes the file (`eval.inception_weights=PATH`). Parity with
pytorch-fid is tested on a randomly initialised copy of its network (tests/test_inception.py,
`make parity`; numbers in README, "Images").
"""

import hashlib
import io
import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics import images as image_metrics

INPUT_SIZE = 299
FEATURE_DIM = 2048
BN_EPS = 1e-3  # torchvision's BasicConv2d
WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"  # pytorch-fid's FID_WEIGHTS_URL file

# ------------------------------------------------------------------------------------------------
# Preprocessing


def _bilinear_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out, in) weights of PyTorch's 1-D linear interpolation, align_corners=False:
    src = max((dst + 0.5) * in / out - 0.5, 0), between floor(src) and the next pixel (clamped
    at the border), as ATen's `upsample_bilinear2d` computes it (no antialiasing)."""
    scale = in_size / out_size
    src = np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(int), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = src - low
    weights = np.zeros((out_size, in_size), np.float64)
    np.add.at(weights, (np.arange(out_size), low), 1.0 - frac)
    np.add.at(weights, (np.arange(out_size), high), frac)
    return weights.astype(np.float32)


def resize_bilinear(images: jax.Array, size: int = INPUT_SIZE) -> jax.Array:
    """(n, h, w, c) -> (n, size, size, c), PyTorch's bilinear `F.interpolate` with
    align_corners=False (pytorch-fid's resize), as two matmuls with fixed weights."""
    rows = jnp.asarray(_bilinear_matrix(images.shape[1], size))
    cols = jnp.asarray(_bilinear_matrix(images.shape[2], size))
    highest = jax.lax.Precision.HIGHEST
    return jnp.einsum("ih,nhwc,jw->nijc", rows, images, cols, precision=highest)


# ------------------------------------------------------------------------------------------------
# The network (names as torchvision's, so the weights file maps onto it key by key)


class ConvReLU(nn.Module):
    """torchvision's BasicConv2d with its BatchNorm folded into the convolution's bias."""

    features: int
    kernel: tuple[int, int]
    stride: int = 1
    padding: tuple[int, int] = (0, 0)

    @nn.compact
    def __call__(self, x):
        pad = ((self.padding[0], self.padding[0]), (self.padding[1], self.padding[1]))
        conv = nn.Conv(self.features, self.kernel, (self.stride, self.stride), pad)
        return nn.relu(conv(x))


def _avg_pool(x):  # FID blocks: TensorFlow's average pool, padded zeros not counted
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool(x, stride=2, pad=0):
    return nn.max_pool(x, (3, 3), (stride, stride), ((pad, pad), (pad, pad)))


class InceptionA(nn.Module):  # FIDInceptionA
    pool_features: int

    @nn.compact
    def __call__(self, x):
        b1 = ConvReLU(64, (1, 1), name="branch1x1")(x)
        b5 = ConvReLU(48, (1, 1), name="branch5x5_1")(x)
        b5 = ConvReLU(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
        b3 = ConvReLU(64, (1, 1), name="branch3x3dbl_1")(x)
        b3 = ConvReLU(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
        b3 = ConvReLU(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
        bp = ConvReLU(self.pool_features, (1, 1), name="branch_pool")(_avg_pool(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):  # torchvision's InceptionB (Mixed_6a)
    @nn.compact
    def __call__(self, x):
        b3 = ConvReLU(384, (3, 3), stride=2, name="branch3x3")(x)
        bd = ConvReLU(64, (1, 1), name="branch3x3dbl_1")(x)
        bd = ConvReLU(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = ConvReLU(96, (3, 3), stride=2, name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, _max_pool(x)], axis=-1)


class InceptionC(nn.Module):  # FIDInceptionC
    channels_7x7: int

    @nn.compact
    def __call__(self, x):
        c7 = self.channels_7x7
        b1 = ConvReLU(192, (1, 1), name="branch1x1")(x)
        b7 = ConvReLU(c7, (1, 1), name="branch7x7_1")(x)
        b7 = ConvReLU(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
        b7 = ConvReLU(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
        bd = ConvReLU(c7, (1, 1), name="branch7x7dbl_1")(x)
        bd = ConvReLU(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
        bd = ConvReLU(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
        bd = ConvReLU(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
        bd = ConvReLU(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
        bp = ConvReLU(192, (1, 1), name="branch_pool")(_avg_pool(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):  # torchvision's InceptionD (Mixed_7a)
    @nn.compact
    def __call__(self, x):
        b3 = ConvReLU(192, (1, 1), name="branch3x3_1")(x)
        b3 = ConvReLU(320, (3, 3), stride=2, name="branch3x3_2")(b3)
        b7 = ConvReLU(192, (1, 1), name="branch7x7x3_1")(x)
        b7 = ConvReLU(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
        b7 = ConvReLU(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
        b7 = ConvReLU(192, (3, 3), stride=2, name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, _max_pool(x)], axis=-1)


class InceptionE(nn.Module):  # FIDInceptionE_1 (average pool) and FIDInceptionE_2 (max pool)
    max_pool: bool

    @nn.compact
    def __call__(self, x):
        b1 = ConvReLU(320, (1, 1), name="branch1x1")(x)
        b3 = ConvReLU(384, (1, 1), name="branch3x3_1")(x)
        b3 = jnp.concatenate(
            [
                ConvReLU(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                ConvReLU(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3),
            ],
            axis=-1,
        )
        bd = ConvReLU(448, (1, 1), name="branch3x3dbl_1")(x)
        bd = ConvReLU(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate(
            [
                ConvReLU(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                ConvReLU(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd),
            ],
            axis=-1,
        )
        # pytorch-fid: "The FID Inception model uses max pooling instead of average pooling"
        # in its last block, as TensorFlow's graph does.
        pooled = _max_pool(x, stride=1, pad=1) if self.max_pool else _avg_pool(x)
        bp = ConvReLU(192, (1, 1), name="branch_pool")(pooled)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class FIDInception(nn.Module):
    """(n, 299, 299, 3) in [-1, 1] -> (n, 2048) pool3 features (pytorch-fid's block 3)."""

    @nn.compact
    def __call__(self, x):
        x = ConvReLU(32, (3, 3), stride=2, name="Conv2d_1a_3x3")(x)
        x = ConvReLU(32, (3, 3), name="Conv2d_2a_3x3")(x)
        x = ConvReLU(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
        x = _max_pool(x)
        x = ConvReLU(80, (1, 1), name="Conv2d_3b_1x1")(x)
        x = ConvReLU(192, (3, 3), name="Conv2d_4a_3x3")(x)
        x = _max_pool(x)
        x = InceptionA(32, name="Mixed_5b")(x)
        x = InceptionA(64, name="Mixed_5c")(x)
        x = InceptionA(64, name="Mixed_5d")(x)
        x = InceptionB(name="Mixed_6a")(x)
        x = InceptionC(128, name="Mixed_6b")(x)
        x = InceptionC(160, name="Mixed_6c")(x)
        x = InceptionC(160, name="Mixed_6d")(x)
        x = InceptionC(192, name="Mixed_6e")(x)
        x = InceptionD(name="Mixed_7a")(x)
        x = InceptionE(max_pool=False, name="Mixed_7b")(x)
        x = InceptionE(max_pool=True, name="Mixed_7c")(x)
        return jnp.mean(x, axis=(1, 2))  # AdaptiveAvgPool2d((1, 1))


# ------------------------------------------------------------------------------------------------
# The weights file: PyTorch's pickle formats, read without torch

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch/serialization.py, MAGIC_NUMBER


class _Storage(NamedTuple):  # a persistent id, resolved once the bytes are read
    key: str
    dtype: np.dtype
    offset: int  # elements into the root storage (legacy views)


class _Tensor(NamedTuple):  # `_rebuild_tensor_v2`'s arguments
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, offset, size, stride, *unused):
    del unused  # requires_grad, backward hooks, metadata
    return _Tensor(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Resolves only what a state_dict holds: tensors, storages, (Ordered)dicts."""

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, *unused: data
        if module == "torch" and name in _DTYPES:
            return np.dtype(_DTYPES[name])
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a PyTorch state_dict")

    def persistent_load(self, pid):
        # zip: ("storage", type, key, location, numel); legacy: (..., numel, view_metadata)
        view = pid[5] if len(pid) > 5 else None
        return _Storage(str(pid[2]), pid[1], int(view[1]) if view else 0)


def _materialize(tensor: _Tensor, storages: dict[str, np.ndarray]) -> np.ndarray:
    data = storages[tensor.storage.key][tensor.storage.offset + tensor.offset :]
    itemsize = data.dtype.itemsize
    strides = tuple(s * itemsize for s in tensor.stride)
    return np.lib.stride_tricks.as_strided(data, tensor.size, strides).copy()


def read_torch_state_dict(path: str) -> dict[str, np.ndarray]:
    """A PyTorch `state_dict` file (`torch.save`, zip format of torch >= 1.6 or the legacy
    format before it) as {name: numpy array}, without importing torch.

    Zip: `<archive>/data.pkl` names storages by key, their bytes are `<archive>/data/<key>`.
    Legacy: a magic-number pickle, a protocol pickle, a system-info pickle, the state_dict
    pickle, a pickle of storage keys, then per key an int64 element count and the raw bytes
    (torch/serialization.py, `_legacy_load`). Both little-endian, as torch writes them on x86.
    Every pickle goes through `_Unpickler`, which builds tensors, dicts and numbers and refuses
    any other class, so a hostile file cannot run code (plain `pickle` or `torch.load` without
    weights_only could).
    """
    with open(path, "rb") as f:
        raw = f.read()
    if zipfile.is_zipfile(io.BytesIO(raw)):
        archive = zipfile.ZipFile(io.BytesIO(raw))
        pickle_name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        prefix = pickle_name[: -len("data.pkl")]
        with archive.open(pickle_name) as f:
            state = _Unpickler(f).load()
        storages = {
            t.storage.key: np.frombuffer(
                archive.read(f"{prefix}data/{t.storage.key}"), t.storage.dtype
            )
            for t in state.values()
        }
    else:
        f = io.BytesIO(raw)
        if _Unpickler(f).load() != _LEGACY_MAGIC:
            raise ValueError("not a PyTorch file (neither a zip archive nor the legacy format)")
        _Unpickler(f).load()  # protocol version
        _Unpickler(f).load()  # system info (byte order, type sizes)
        state = _Unpickler(f).load()
        dtypes = {t.storage.key: t.storage.dtype for t in state.values()}
        storages = {}
        for key in _Unpickler(f).load():
            (numel,) = np.frombuffer(f.read(8), "<i8")
            dtype = dtypes.get(key, np.dtype(np.uint8))
            storages[key] = np.frombuffer(f.read(int(numel) * dtype.itemsize), dtype)
    if not isinstance(state, dict) or not all(isinstance(t, _Tensor) for t in state.values()):
        raise ValueError("the file holds no state_dict of tensors")
    return {name: _materialize(tensor, storages) for name, tensor in state.items()}


# ------------------------------------------------------------------------------------------------
# State dict -> Flax parameters


def _conv_paths(tree, prefix=()) -> list[tuple[str, ...]]:
    """Paths of the ConvReLU modules in a params tree (each holds "Conv_0")."""
    if "Conv_0" in tree:
        return [prefix]
    return [p for key, sub in tree.items() for p in _conv_paths(sub, (*prefix, key))]


def params_from_state_dict(state: dict[str, np.ndarray]) -> dict:
    """pytorch-fid's FID Inception state_dict (torchvision names, e.g.
    "Mixed_5b.branch1x1.conv.weight" and ".bn.running_var") -> `FIDInception` params, with each
    BatchNorm folded into its convolution:
      kernel = W * g / sqrt(v + eps) (OIHW -> HWIO), bias = b - m * g / sqrt(v + eps).
    Raises ValueError naming the first missing or misshapen entry."""
    shapes = jax.eval_shape(
        FIDInception().init, jax.random.PRNGKey(0), jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 3))
    )["params"]
    params: dict = {}
    for path in _conv_paths(shapes):
        name = ".".join(path)
        expected = shapes
        for key in path:
            expected = expected[key]
        expected = expected["Conv_0"]["kernel"].shape  # (h, w, in, out)
        entries = {}
        for suffix in ("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
            key = f"{name}.{suffix}"
            if key not in state:
                raise ValueError(f"the weights have no {key!r}: not pytorch-fid's FID Inception")
            entries[suffix] = np.asarray(state[key], np.float64)
        weight = entries["conv.weight"]
        if weight.shape != (expected[3], expected[2], expected[0], expected[1]):
            raise ValueError(
                f"{name}.conv.weight has shape {weight.shape}, FID Inception's is "
                f"{(expected[3], expected[2], expected[0], expected[1])}"
            )
        scale = entries["bn.weight"] / np.sqrt(entries["bn.running_var"] + BN_EPS)
        kernel = (weight * scale[:, None, None, None]).transpose(2, 3, 1, 0)
        bias = entries["bn.bias"] - entries["bn.running_mean"] * scale
        node = params
        for key in path:
            node = node.setdefault(key, {})
        node["Conv_0"] = {
            "kernel": jnp.asarray(kernel, jnp.float32),
            "bias": jnp.asarray(bias, jnp.float32),
        }
    return {"params": params}


def load_params(path: str) -> dict:
    """`params_from_state_dict(read_torch_state_dict(path))`, every error one line naming
    `path`."""
    if not os.path.isfile(path):
        raise ValueError(f"eval.inception_weights={path!r}: no such file")
    try:
        state = read_torch_state_dict(path)
        return params_from_state_dict(state)
    except (
        ValueError,  # our own messages
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        EOFError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        StopIteration,
    ) as error:
        raise ValueError(
            f"eval.inception_weights={path!r} is not pytorch-fid's {WEIGHTS_NAME}: {error}"
        ) from None


# ------------------------------------------------------------------------------------------------
# Features and metrics


def make_feature_fn(params, batch_size: int = 50) -> Callable[[jax.Array], jax.Array]:
    """Returns `features(images) -> (n, 2048)` pool3 features, jittable and batched.

    `images` are float in [-1, 1], NHWC of any size, 1 or 3 channels (grey repeated to RGB).
    Each goes through `resize_bilinear` to 299 and `FIDInception`, `batch_size` at a time
    (pytorch-fid's default batch, 50; `jax.lax.map`, so memory is that of one batch).
    """
    model = FIDInception()

    def one_batch(batch):
        return model.apply(params, resize_bilinear(batch))

    def features(images: jax.Array) -> jax.Array:
        images = jnp.asarray(images, jnp.float32)
        if images.shape[-1] == 1:
            images = jnp.repeat(images, 3, axis=-1)
        if images.shape[-1] != 3:
            raise ValueError(f"Inception takes 1 or 3 channels, not {images.shape[-1]}")
        n = images.shape[0]
        size = min(batch_size, n)
        per_image = jax.lax.map(lambda x: one_batch(x[None])[0], images, batch_size=size)
        return per_image

    return features


def reference_statistics(feats: np.ndarray, kid_size: int = 10_000) -> dict[str, np.ndarray]:
    """What FID and KID need of the real set's pool3 features (n, 2048): mean and covariance in
    float64 (as pytorch-fid's `np.cov`), and up to `kid_size` of the features (a fixed draw)
    for KID's subsets."""
    feats = np.asarray(feats, np.float64)
    pick = np.random.default_rng(0).permutation(len(feats))[:kid_size]
    return {
        "mean": feats.mean(axis=0),
        "cov": np.cov(feats, rowvar=False),
        "kid_feats": feats[np.sort(pick)].astype(np.float32),
    }


def cached_reference(
    weights_path: str,
    real_images: np.ndarray,
    feature_fn: Callable[[jax.Array], jax.Array],
    cache_dir: str,
) -> dict[str, np.ndarray]:
    """`reference_statistics` of `real_images` (uint8 NHWC), computed once and cached in
    `cache_dir/inception-<sha1 of the weights file and the images>.npz` (atomic write)."""
    digest = hashlib.sha1()
    with open(weights_path, "rb") as f:
        digest.update(f.read())
    real_images = np.ascontiguousarray(real_images)
    digest.update(f"{real_images.dtype.str}{real_images.shape}".encode())
    digest.update(real_images.tobytes())
    path = os.path.join(cache_dir, f"inception-{digest.hexdigest()[:16]}.npz")
    if os.path.isfile(path):
        with np.load(path) as cached:
            return dict(cached)
    feats = jax.jit(feature_fn)(image_metrics.to_float_images(real_images))
    stats = reference_statistics(np.asarray(feats))
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}.npz"
    np.savez(tmp, **stats)
    os.replace(tmp, path)
    return stats


def make_metric_fn(
    feature_fn: Callable[[jax.Array], jax.Array],
    reference: dict[str, np.ndarray],
    kid_subsets: int = image_metrics.KID_SUBSETS,
    kid_subset_size: int = image_metrics.KID_SUBSET_SIZE,
) -> Callable[[jax.Array], dict[str, jax.Array]]:
    """Returns `metric_fn(samples in [-1, 1]) -> {"fid", "kid_inception", "kid_inception_std"}`,
    jittable: FID (`gan_jax.metrics.images.frechet_distance_to_reference` against the cached
    real mean and covariance) and KID (`kernel_inception_distance`'s subsets, Bińkowski et al.
    2018) on pool3 features."""
    moments = image_metrics.reference_from_moments(reference["mean"], reference["cov"])
    real_kid = jnp.asarray(reference["kid_feats"], jnp.float32)
    real_key, fake_key = jax.random.split(jax.random.PRNGKey(0))
    real_index = image_metrics.kid_subset_indices(
        real_key, real_kid.shape[0], kid_subsets, kid_subset_size
    )
    real_within = jax.jit(image_metrics.kernel_means_within)(real_kid, real_index)

    def metric_fn(samples: jax.Array) -> dict[str, jax.Array]:
        feats = feature_fn(image_metrics.to_float_images(samples))
        fake_index = image_metrics.kid_subset_indices(
            fake_key, feats.shape[0], kid_subsets, kid_subset_size
        )
        kid = image_metrics.kid_from_kernel_means(
            real_within,
            image_metrics.kernel_means_within(feats, fake_index),
            image_metrics.kernel_means_across(real_kid, real_index, feats, fake_index),
        )
        return {
            "fid": image_metrics.frechet_distance_to_reference(moments, feats),
            "kid_inception": kid["kid"],
            "kid_inception_std": kid["kid_std"],
        }

    return metric_fn


__all__ = [
    "FIDInception",
    "cached_reference",
    "load_params",
    "make_feature_fn",
    "make_metric_fn",
    "params_from_state_dict",
    "read_torch_state_dict",
    "reference_statistics",
    "resize_bilinear",
]
