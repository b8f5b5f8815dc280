"""Which accelerator jax runs on, said once per run, and a warning when it is not the one there.

`pip install -e .` installs jax's CPU build; on a machine with an NVIDIA GPU that build trains on
the CPU without a word. Every run logs `describe()` and records it in its workdir marker, and
`gpu_warning()` names the install command when an NVIDIA driver is present but jax is on the CPU.
"""

import os
import shutil
from collections.abc import Mapping

import jax

CUDA_INSTALL = 'pip install -e ".[cuda]"  (or: make ACCEL=cuda run)'


def cpu_threads() -> int:
    """The CPUs this process may run on (its affinity, e.g. under `taskset`): XLA on CPU splits
    its products over them, so float results differ in the last bits between counts."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe() -> dict:
    """{"backend", "device_count", "device_kind", "jax", "cpu_threads"}: what this process
    computes on (`cpu_threads`: a rerun on CPU repeats a result to the bit only with as many)."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "device_count": len(devices),
        "device_kind": devices[0].device_kind,
        "jax": jax.__version__,
        "cpu_threads": cpu_threads(),
    }


def line(info: Mapping) -> str:
    """One log line from `describe()`'s dict, e.g. 'jax 0.10.2 on cpu: 1 x cpu, 2 CPU threads'."""
    text = f"jax {info['jax']} on {info['backend']}: {info['device_count']} x {info['device_kind']}"
    if "cpu_threads" in info:
        text += f", {info['cpu_threads']} CPU threads"
    return text


def gpu_warning(env: Mapping[str, str] | None = None, backend: str | None = None) -> str | None:
    """One line when an NVIDIA GPU is present (`nvidia-smi` on the PATH of `env`, default the
    process environment) but jax runs on the CPU (`backend`, default `jax.default_backend()`);
    None otherwise."""
    path = (os.environ if env is None else env).get("PATH", os.defpath)
    if shutil.which("nvidia-smi", path=path) is None:
        return None
    if (backend or jax.default_backend()) != "cpu":
        return None
    return (
        "an NVIDIA GPU is present (nvidia-smi found) but jax runs on the CPU: install the CUDA "
        f"build with {CUDA_INSTALL}"
    )
