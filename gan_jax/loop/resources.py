"""Requests that cannot fit, refused before they allocate, with the estimate in the line.

A model of a billion parameters times a sweep's runs, or an export of 10^12 samples, would
otherwise grow the process's memory for minutes until the machine swaps or the kernel kills it,
with no message. The estimates are lower bounds (what must be held at once), so a request that is
refused could never have run; one that passes may still be tight.
"""

import os

import jax
import numpy as np

from gan_jax.step.config import ConfigError
from gan_jax.step.experiment import dynamic_params, make_experiment, program_key
from gan_jax.step.train import init_state

# A training step holds the state it was given and the one it returns (gradients and optimizer
# updates in between), so at least twice the state.
STEP_COPIES = 2


def format_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError  # unreachable


def host_available_bytes() -> int | None:
    """Memory the host can still give this process (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def device_available_bytes(device=None) -> int | None:
    """Memory left on `device` (default: the first), or None if unknown; a CPU device's is the
    host's."""
    device = device or jax.devices()[0]
    if device.platform != "cpu":
        try:
            stats = device.memory_stats() or {}
        except Exception:  # noqa: BLE001 - a backend without memory statistics
            stats = {}
        if stats.get("bytes_limit"):
            return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        return None
    return host_available_bytes()


def tree_bytes(tree) -> int:
    """Bytes of the arrays (or `jax.ShapeDtypeStruct`s) of a pytree."""
    return sum(
        int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(tree)
    )


def check_runs_fit(run_bytes: int, num_runs: int, devices: int = 1) -> None:
    """Refuses (`ConfigError`, one line) `num_runs` runs of `run_bytes` of state each (parameters,
    optimizer state, EMA), stacked and sharded over `devices`, when one device's share, held
    `STEP_COPIES` times during a step, is more than the device has left."""
    per_device_runs = -(-max(num_runs, 1) // max(devices, 1))
    needed = STEP_COPIES * per_device_runs * run_bytes
    available = device_available_bytes()
    if available is None or needed <= available:
        return
    raise ConfigError(
        f"training needs at least {format_bytes(needed)} of memory per device ({num_runs} "
        f"run(s) over {devices} device(s), {format_bytes(run_bytes)} of parameters, optimizer "
        f"state and EMA each, held twice during a step), but {jax.devices()[0].platform} has "
        f"{format_bytes(available)} available; shrink model.g / model.d (hidden_sizes, widths) "
        "or train fewer runs at once"
    )


_RUN_BYTES: dict = {}


def run_bytes(config) -> int:
    """Bytes of one run's training state under `config`, traced abstractly (`jax.eval_shape`:
    nothing is allocated or compiled); cached by the config's program."""
    key = program_key(config)
    if key not in _RUN_BYTES:
        exp = make_experiment(config)
        abstract = jax.eval_shape(
            lambda rng, dynamic: init_state(exp, rng, dynamic),
            jax.random.PRNGKey(0),
            dynamic_params(config),
        )
        _RUN_BYTES[key] = tree_bytes(abstract)
    return _RUN_BYTES[key]


def check_configs_fit(groups) -> None:
    """`check_runs_fit` for groups of configs (each group: one compiled program, its runs
    stacked), before anything is written or allocated."""
    for configs in groups:
        if configs:
            check_runs_fit(run_bytes(configs[0]), len(configs), jax.device_count())
