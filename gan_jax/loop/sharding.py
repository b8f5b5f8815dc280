"""The runs axis of a sweep: padding to the device count and sharding over a 1D mesh.

Runs are independent, so the only sharding a sweep needs is the leading axis of every state
leaf split over devices ("runs"). Padding repeats the last run; padded runs are trained and
thrown away, so any number of runs works on any number of devices.
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

RUNS_AXIS = "runs"


def runs_mesh(num_runs: int) -> Mesh:
    """A 1D mesh over min(num_runs, device count) devices, with an auto (GSPMD) axis; over
    every device when several processes share the run (each must own a shard)."""
    count = jax.device_count() if jax.process_count() > 1 else min(num_runs, jax.device_count())
    devices = np.array(jax.devices()[: max(1, count)])
    try:
        axis_types = (jax.sharding.AxisType.Auto,)
        return Mesh(devices, (RUNS_AXIS,), axis_types=axis_types)
    except (AttributeError, TypeError):  # older jax: every axis is auto
        return Mesh(devices, (RUNS_AXIS,))


def padded_size(num_runs: int, mesh: Mesh) -> int:
    """The smallest multiple of the mesh size that holds `num_runs`."""
    size = mesh.devices.size
    return -(-num_runs // size) * size


def pad_runs(tree, num_padded: int):
    """Pads every leaf's leading (runs) axis to `num_padded` by repeating the last run."""

    def pad(x):
        x = np.asarray(x)
        extra = num_padded - x.shape[0]
        return np.concatenate([x, np.repeat(x[-1:], extra, axis=0)]) if extra else x

    return jax.tree.map(pad, tree)


def runs_sharding(mesh: Mesh) -> NamedSharding:
    """Every leaf's leading axis split over the mesh's runs axis."""
    return NamedSharding(mesh, PartitionSpec(RUNS_AXIS))


def replicate(tree, mesh: Mesh):
    """Every leaf of `tree` (e.g. a data set's arrays) whole on every device of `mesh`: the
    input a jitted sweep step shares across its runs. Each process passes the same values."""
    replicated = NamedSharding(mesh, PartitionSpec())
    return jax.tree.map(lambda x: jax.device_put(np.asarray(x), replicated), tree)


def to_host(tree):
    """Fetches a (possibly sharded) pytree as numpy. With several processes each holds only its
    devices' runs, so the runs are all-gathered first."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def primary_says(flag: bool) -> bool:
    """The primary process's `flag`, on every process (a decision all must act on together: one
    that stopped alone would leave the others waiting at their next collective)."""
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.asarray(flag)))


def largest_over_processes(value: int) -> int:
    """The largest of every process's `value`, on every process (e.g. the signal one process
    received: all must stop at the same chunk, or the others wait at their next collective)."""
    if jax.process_count() == 1:
        return value
    from jax.experimental import multihost_utils

    return int(np.max(multihost_utils.process_allgather(np.asarray(value))))


def is_primary() -> bool:
    """Whether this process writes the outputs (process 0; every process computes)."""
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Waits until every process gets here (after process 0 changed files); no-op alone."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
