"""FID-Inception in Flax (gan_jax/metrics/inception.py).

Without torch: the resize against jax.image.resize, the network's shapes, the weights errors.
With torch and pytorch-fid (`pip install -e ".[parity]"`, `make parity`): parity with
pytorch-fid's own network, built from its FID blocks with random weights (no download),
saved with torch.save in both of torch's formats, read here without torch: the state_dict,
the pool3 features of the same images and the FID of two image sets. Skipped when torch is
absent (the CI venv has none).
"""

import importlib.util
import os
import pickle
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import frechet_distance

from gan_jax.metrics import images as image_metrics
from gan_jax.metrics import inception

HAVE_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "torchvision", "pytorch_fid"))
parity = pytest.mark.skipif(
    not HAVE_TORCH, reason='needs torch and pytorch-fid: pip install -e ".[parity]"; make parity'
)


@pytest.mark.parametrize("in_size", [8, 32, 512])
def test_resize_is_half_pixel_bilinear_without_antialiasing(in_size):
    # jax.image.resize with antialias=False is an independent implementation of the same
    # interpolation (half-pixel centres; weights renormalised at the border, which equals
    # PyTorch's clamping of the source index).
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(2, in_size, in_size, 3)).astype(np.float32)
    got = jax.jit(inception.resize_bilinear)(images)
    expected = jax.image.resize(images, (2, 299, 299, 3), "bilinear", antialias=False)
    # jax.image.resize evaluates its kernel in float32: measured within 4.6e-5 of a float64
    # evaluation at 512 -> 299 (7e-7 at 8 -> 299); ours within 1.1e-7.
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_network_maps_299_pixels_to_2048_features():
    model = inception.FIDInception()
    x = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
    params = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
    assert jax.eval_shape(model.apply, params, x).shape == (2, inception.FEATURE_DIM)
    # 94 convolutions (torchvision's Inception v3 without aux and fc); their weights and
    # biases (BatchNorm folded) number pytorch-fid's conv weights + out channels: 21,768,352.
    leaves = jax.tree.leaves(params)
    assert len(leaves) == 2 * 94
    assert sum(np.prod(p.shape) for p in leaves) == 21_768_352


class _RunsCommand:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_weights_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        inception.load_params(str(tmp_path / "missing.pth"))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="is not pytorch-fid's pt_inception") as error:
        inception.load_params(str(junk))
    assert "\n" not in str(error.value)
    hostile = tmp_path / "hostile.pth"  # a pickle that would run a command when loaded
    hostile.write_bytes(pickle.dumps(_RunsCommand()))
    with pytest.raises(ValueError, match="posix.system is not part of a PyTorch state_dict"):
        inception.load_params(str(hostile))
    with pytest.raises(ValueError, match="have no 'Conv2d_1a_3x3.conv.weight'"):
        inception.params_from_state_dict({})


def _flat_features(images):  # a stand-in for Inception: the pixels as features
    return images.reshape(images.shape[0], -1)


def test_reference_is_computed_once_and_cached(tmp_path):
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"weights")
    real = np.random.default_rng(0).integers(0, 256, size=(300, 4, 4, 1), dtype=np.uint8)
    first = inception.cached_reference(str(weights), real, _flat_features, str(tmp_path / "c"))
    feats = np.asarray(image_metrics.to_float_images(real), np.float64).reshape(300, -1)
    np.testing.assert_allclose(first["mean"], feats.mean(0), atol=1e-6)
    np.testing.assert_allclose(first["cov"], np.cov(feats, rowvar=False), atol=1e-5)
    assert first["kid_feats"].shape == (300, 16)

    def fail(images):
        raise AssertionError("recomputed")

    again = inception.cached_reference(str(weights), real, fail, str(tmp_path / "c"))
    np.testing.assert_array_equal(again["cov"], first["cov"])
    weights.write_bytes(b"other weights")  # another file: another entry
    with pytest.raises(AssertionError, match="recomputed"):
        inception.cached_reference(str(weights), real, fail, str(tmp_path / "c"))


def test_metric_fn_is_fid_and_kid_of_the_features():
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, size=(200, 4, 4, 1)).astype(np.float32)
    fake = (rng.uniform(-1, 1, size=(150, 4, 4, 1)) * 0.7 + 0.1).astype(np.float32)
    reference = inception.reference_statistics(np.asarray(_flat_features(real)), kid_size=200)
    got = jax.jit(inception.make_metric_fn(_flat_features, reference, 10, 100))(fake)
    expected = jax.jit(frechet_distance)(_flat_features(real), _flat_features(fake))
    assert float(got["fid"]) == pytest.approx(float(expected), rel=1e-4)
    # KID: the same estimator as `kernel_inception_distance` (tested against NumPy), here on
    # other random subsets, so equal within the spread over subsets.
    kid = jax.jit(image_metrics.kernel_inception_distance, static_argnums=(2, 3))(
        _flat_features(real), _flat_features(fake), 10, 100
    )
    assert float(got["kid_inception"]) == pytest.approx(
        float(kid["kid"]), abs=2 * float(kid["kid_std"])
    )
    assert float(got["kid_inception"]) > 5 * float(got["kid_inception_std"]) / np.sqrt(10)


def test_image_evaluator_adds_fid_and_kid_with_weights(tmp_path, monkeypatch):
    # The wiring of `metrics.for_dataset(..., inception_weights=PATH)`, with the network
    # replaced by the flat stand-in: mock CelebA (no labels, so no classifier metrics).
    import tensorflow_datasets as tfds

    from gan_jax import metrics
    from gan_jax.parts import data

    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"weights")
    monkeypatch.setattr(inception, "load_params", lambda path: {"path": path})
    monkeypatch.setattr(inception, "make_feature_fn", lambda params: _flat_features)
    monkeypatch.setenv("GAN_JAX_CACHE", str(tmp_path / "cache"))
    with tfds.testing.mock_data(num_examples=24):
        dataset = data.make_dataset("celeb_a", image_size=8)
    metric_fn = metrics.for_dataset(dataset, 16, inception_weights=str(weights))
    got = jax.jit(metric_fn)(dataset.sample(jax.random.PRNGKey(1), 16))
    assert set(got) == {"fid", "kid_inception", "kid_inception_std"}
    assert np.isfinite(float(got["fid"])) and float(got["fid"]) > 0
    assert [n for n in os.listdir(tmp_path / "cache") if n.startswith("inception-")]
    assert metrics.for_dataset(dataset, 16)(dataset.sample(jax.random.PRNGKey(1), 16)) == {}


# ------------------------------------------------------------------------------------------------
# Parity with pytorch-fid


def _import_pytorch_fid_inception():
    """pytorch-fid's inception module. PyPI's torchvision wheels are CUDA builds whose C ops do
    not load beside the CPU torch wheel, and torchvision's import then fails registering fake
    kernels for those ops (detection ops; pytorch-fid needs only the pure-Python Inception
    classes), so those registrations are skipped while torchvision imports."""
    import warnings

    import torch

    original = torch.library.register_fake

    def tolerant(op, *args, **kwargs):
        def decorate(fn):
            try:
                return original(op, *args, **kwargs)(fn)
            except RuntimeError:  # "operator torchvision::nms does not exist"
                return fn

        return decorate

    torch.library.register_fake = tolerant
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Failed to load image Python extension"
            import torchvision  # noqa: F401
    finally:
        torch.library.register_fake = original
    from pytorch_fid import inception as pf

    return pf


def _random_pytorch_fid_model(images01):
    """pytorch-fid's `InceptionV3([3])` (resize, scaling, blocks 0-3) around the network
    `fid_inception_v3` builds, with random weights instead of its download. BatchNorm affine
    parameters are random and its running statistics are those of `images01`, so every layer
    has activations of order 1 (default init alone shrinks them layer after layer)."""
    import torch

    pf = _import_pytorch_fid_inception()
    torch.manual_seed(0)
    net = pf._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    # As pf.fid_inception_v3, minus `load_state_dict_from_url`.
    net.Mixed_5b = pf.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pf.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pf.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pf.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pf.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pf.FIDInceptionE_1(1280)
    net.Mixed_7c = pf.FIDInceptionE_2(2048)
    original, pf.fid_inception_v3 = pf.fid_inception_v3, lambda: net
    try:
        model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        pf.fid_inception_v3 = original
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.reset_running_stats()
                module.momentum = None  # running stats = the mean over calibration batches
        model.train()
        model(images01)
    model.eval()
    return model, net


def _torch_features(model, images_uint8, batch_size=32):
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(images_uint8), batch_size):
            batch = torch.from_numpy(images_uint8[i : i + batch_size]).permute(0, 3, 1, 2)
            out.append(model(batch.float() / 255.0)[0].squeeze(-1).squeeze(-1).numpy())
    return np.concatenate(out).astype(np.float64)


def _image_sets(n):
    """Two sets of n smooth 32x32 RGB images (CIFAR-10's size), uint8, the second brighter and
    smoother: what a generator and the data might give, with a clear FID between them."""
    rng = np.random.default_rng(0)

    def smooth(count, cells, offset):
        coarse = rng.uniform(0, 1, size=(count, cells, cells, 3))
        up = jax.image.resize(coarse, (count, 32, 32, 3), "bicubic")
        return np.asarray(np.clip(255 * (np.asarray(up) * 0.8 + offset), 0, 255), np.uint8)

    return smooth(n, 8, 0.1), smooth(n, 4, 0.2)


@pytest.fixture(scope="module")
def torch_side(tmp_path_factory):
    import torch

    torch.set_num_threads(2)
    set_a, set_b = _image_sets(128)
    calibration = torch.from_numpy(np.concatenate([set_a[:32], set_b[:32]])).permute(0, 3, 1, 2)
    model, net = _random_pytorch_fid_model(calibration.float() / 255.0)
    folder = tmp_path_factory.mktemp("weights")
    paths = {"zip": str(folder / "zip.pth"), "legacy": str(folder / "legacy.pth")}
    state = net.state_dict()
    torch.save(state, paths["zip"])
    torch.save(state, paths["legacy"], _use_new_zipfile_serialization=False)
    start = time.time()
    feats = (_torch_features(model, set_a), _torch_features(model, set_b))
    print(f"\npytorch-fid features of {2 * len(set_a)} images: {time.time() - start:.1f}s")
    numpy_state = {k: v.numpy() for k, v in state.items()}
    return {"sets": (set_a, set_b), "paths": paths, "state": numpy_state, "feats": feats}


@parity
@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_reads_torch_save_files_without_torch(torch_side, fmt):
    read = inception.read_torch_state_dict(torch_side["paths"][fmt])
    assert read.keys() == torch_side["state"].keys()
    for key, value in torch_side["state"].items():
        assert read[key].dtype == value.dtype, key
        np.testing.assert_array_equal(read[key], value, err_msg=key)


@parity
def test_pool3_features_and_fid_match_pytorch_fid(torch_side):
    _import_pytorch_fid_inception()
    from pytorch_fid.fid_score import calculate_frechet_distance

    params = inception.load_params(torch_side["paths"]["legacy"])
    feature_fn = jax.jit(inception.make_feature_fn(params, batch_size=16))
    set_a, set_b = torch_side["sets"]
    start = time.time()
    ours = [
        np.asarray(feature_fn(image_metrics.to_float_images(s)), np.float64) for s in (set_a, set_b)
    ]
    print(f"Flax features of {2 * len(set_a)} images, with compilation: {time.time() - start:.1f}s")
    theirs = torch_side["feats"]
    scale = max(np.abs(t).max() for t in theirs)
    max_diff = max(np.abs(o - t).max() for o, t in zip(ours, theirs, strict=True))

    def pf_fid(a, b):
        return calculate_frechet_distance(
            a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
        )

    fid_pf = pf_fid(*theirs)  # pytorch-fid end to end: its network, its formula (float64)
    fid_ours = float(jax.jit(frechet_distance)(*(o.astype(np.float32) for o in ours)))
    fid_formula = float(jax.jit(frechet_distance)(*(t.astype(np.float32) for t in theirs)))
    print(
        f"pool3 features: max |ours - pytorch-fid| = {max_diff:.2e} (max |feature| {scale:.3f}, "
        f"relative {max_diff / scale:.2e}); FID pytorch-fid {fid_pf:.4f}, ours {fid_ours:.4f} "
        f"(difference {fid_ours - fid_pf:+.2e}); our formula on pytorch-fid's features "
        f"{fid_formula:.4f}"
    )
    # float32 on both sides, with different summation orders in ~40 sequential convolutions of
    # up to 2,048 x 9 terms each and BatchNorm folded here: a relative 1e-4 of the feature
    # scale is about what float32 rounding compounds to (eps 1.2e-7 x sqrt(terms) x depth).
    assert max_diff < 1e-4 * scale
    assert fid_ours == pytest.approx(fid_pf, rel=1e-4)
    assert fid_pf > 1.0  # the two sets differ: the comparison is not 0 == 0
