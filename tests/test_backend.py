"""The backend line every run logs and records, and the GPU-present-but-CPU-jax warning."""

import logging
import os
import stat

import jax
import pytest

from gan_jax.loop import backend
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import train


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """A stand-in `nvidia-smi` first on the PATH, as on a machine with an NVIDIA driver."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nvidia-smi"
    script.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return script


def test_describe_names_backend_devices_and_version():
    info = backend.describe()
    assert info == {
        "backend": jax.default_backend(),
        "device_count": jax.device_count(),
        "device_kind": jax.devices()[0].device_kind,
        "jax": jax.__version__,
        "cpu_threads": len(os.sched_getaffinity(0)),
    }
    assert backend.line(info).startswith(f"jax {jax.__version__} on {info['backend']}: ")
    assert backend.line(info).endswith(f", {info['cpu_threads']} CPU threads")


def test_gpu_warning_names_the_install_command(fake_nvidia_smi):
    del fake_nvidia_smi
    warning = backend.gpu_warning(backend="cpu")
    assert warning is not None and "\n" not in warning
    assert ".[cuda]" in warning and "nvidia-smi" in warning
    assert backend.gpu_warning(backend="gpu") is None  # the CUDA build is in use: nothing to say


def test_no_gpu_warning_without_nvidia_smi(tmp_path):
    assert backend.gpu_warning({"PATH": str(tmp_path)}, backend="cpu") is None


def test_run_logs_backend_warns_and_records_it(fake_nvidia_smi, tiny_config, tmp_path, caplog):
    del fake_nvidia_smi
    if jax.default_backend() != "cpu":
        pytest.skip("the warning is for CPU-only jax")
    tiny_config.num_steps = 10
    workdir = str(tmp_path / "run")
    with caplog.at_level(logging.WARNING):
        assert train(tiny_config, workdir, progress=False).finished
    messages = [r.getMessage() for r in caplog.records]
    assert backend.line(backend.describe()) in messages
    assert any(".[cuda]" in m for m in messages)
    assert wd.marker(workdir)["backend"] == backend.describe()
