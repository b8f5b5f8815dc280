"""Shared fixtures: tiny configs so the whole suite runs in minutes on a 2-core CPU."""

import os
import subprocess
import sys
import tempfile

# One BLAS thread: jaxlib's CPU eigh/svd call OpenBLAS, whose thread pool makes a 256 x 256
# decomposition take seconds instead of milliseconds on a loaded 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The image metrics' classifiers train once per test session, in a fresh cache.
os.environ.setdefault("GAN_JAX_CACHE", tempfile.mkdtemp(prefix="gan_jax_cache_"))
# One persistent compilation cache for the session and the processes it starts: the tests
# compile the same tiny programs many times over, and compiling is most of the suite's time.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="gan_jax_xla_"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# Four virtual CPU devices, so sharded sweeps are tested on this 2-core machine. Must be set
# before jax is imported.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # `configs` is a top-level folder, imported as a package

from configs import default  # noqa: E402
from gan_jax.config import set_field  # noqa: E402


def make_tiny_config(**overrides):
    """The default config shrunk: small MLPs, batch 32, 20 steps, evals every 10."""
    config = default.get_config()
    config.num_steps = 20
    config.batch_size = 32
    config.eval_every = 10
    config.checkpoint_every = 10
    config.model.g.latent_dim = 8
    config.model.g.hidden_sizes = (16, 16)
    config.model.d.hidden_sizes = (16,)
    config.eval.num_samples = 256
    config.eval.plot_samples = 64
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
