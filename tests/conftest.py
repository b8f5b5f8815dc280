"""Shared fixtures: tiny configs so the whole suite runs in minutes on a 2-core CPU."""

import glob
import os
import subprocess
import sys
import tempfile

# One BLAS thread: jaxlib's CPU eigh/svd call OpenBLAS, whose thread pool makes a 256 x 256
# decomposition take seconds instead of milliseconds on a loaded 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The image metrics' classifiers train once per test session, in one fresh cache that every
# xdist worker and every process the tests start shares (it locks an entry while training it);
# mnist_5k's ships with the package (gan_jax/metrics/shipped_classifiers) and is only loaded.
os.environ.setdefault("GAN_JAX_CACHE", tempfile.mkdtemp(prefix="gan_jax_cache_"))
# One persistent compilation cache for the session and the processes it starts: the tests
# compile the same tiny programs many times over, and compiling is most of the suite's time.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="gan_jax_xla_"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# jax writes a cache entry in place (not atomically), so a process of one xdist worker can read
# an entry another is still writing: jax then warns and compiles anew (same program, same
# numbers). That warning is the shared test cache's, never gan_jax's: keep it out of the stderr
# the tests read in their subprocesses, where a test expects exactly gan_jax's lines (it made
# test_faults' one-warning-line test fail once in CI).
os.environ["PYTHONWARNINGS"] = ",".join(
    w
    for w in (
        os.environ.get("PYTHONWARNINGS", ""),
        "ignore:Error reading persistent compilation cache entry:UserWarning",
    )
    if w
)
# XLA without its expensive passes: the tests' programs are tiny, so compiling them costs far
# more than running them (1.5x faster on the sweep and step tests). Numbers stay within the
# tests' tolerances; bit-identity checks compare two programs compiled the same way.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
# Four virtual CPU devices, so sharded sweeps are tested on this 2-core machine; and XLA:CPU's
# older elemental emitters instead of its fusion emitters, which compile the tests' tiny programs
# ~2.5x faster (a train chunk: 1.8 s -> 0.7 s; benchmarks/README.md). Must be set before jax is
# imported.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_force_host_platform_device_count=4 --xla_cpu_use_fusion_emitters=false"
).strip()

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # `configs` is a top-level folder, imported as a package

from configs import default  # noqa: E402
from gan_jax.step.config import set_field  # noqa: E402


def overwrite_four_bytes(step_dir):
    """Damages a checkpoint step's data so that only its digest can tell: four bytes halfway
    through D's parameters overwritten (orbax restores them without error)."""
    (name,) = glob.glob(os.path.join(step_dir, "default", "d", "*"))
    with open(name, "r+b") as f:
        f.seek(os.path.getsize(name) // 2)
        f.write(b"\x7f\x7f\x7f\x7f")


def make_tiny_config(**overrides):
    """The default config shrunk: small MLPs, batch 32, 20 steps, evals every 10, no samples
    kept (`eval.plot_samples=0`: the tests that read samples or figures set it)."""
    config = default.get_config()
    config.num_steps = 20
    config.batch_size = 32
    config.eval_every = 10
    config.checkpoint_every = 10
    config.model.g.latent_dim = 8
    config.model.g.hidden_sizes = (16, 16)
    config.model.d.hidden_sizes = (16,)
    config.eval.num_samples = 256
    config.eval.plot_samples = 0
    for field, value in overrides.items():
        set_field(config, field, value)
    return config


@pytest.fixture
def tiny_config():
    return make_tiny_config()


def run_main(*args, **kwargs) -> subprocess.CompletedProcess:
    """`python -m gan_jax.main *args` in a fresh process from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "gan_jax.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def frechet_distance(feats_a, feats_b):
    """FD between Gaussians fitted to two feature sets (n_a, d) and (n_b, d), through the image
    metric's own path: the reference statistics of `feats_a`, then `feats_b` against them."""
    from gan_jax.metrics import images

    return images.frechet_distance_to_reference(images.reference_statistics(feats_a), feats_b)


def precision_recall(real_feats, fake_feats, k: int = 3, chunk_size: int = 1024):
    """Precision, recall, density and coverage of two feature sets, through the image metric's
    own parts (centred on the real features' mean, as the metric does)."""
    import jax.numpy as jnp

    from gan_jax.metrics import images

    real_feats = jnp.asarray(real_feats, jnp.float32)
    fake_feats = jnp.asarray(fake_feats, jnp.float32)
    offset = jnp.mean(real_feats, axis=0)
    real_feats, fake_feats = real_feats - offset, fake_feats - offset
    real_radii = images.knn_radii_squared(real_feats, k, chunk_size)
    fake_radii = images.knn_radii_squared(fake_feats, k, chunk_size)
    return images.manifold_metrics(real_feats, fake_feats, real_radii, fake_radii, k, chunk_size)
