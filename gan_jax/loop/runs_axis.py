"""How a compiled program walks the runs of a sweep group (DESIGN.md, "The runs axis").

A group's runs share one program whose inputs carry a leading runs axis, sharded over a 1D mesh
(`sharding.runs_mesh`). How the program computes along that axis is a strategy:

- "vmap": one batched program; each matrix product gains a batch dimension. What accelerators
  want: many small runs fill a device that one run leaves idle.
- "map": each device walks its own runs one after another (`lax.map` inside `shard_map`), so
  every run uses the single-run kernels. What a CPU wants: two cores have nothing idle for a
  runs axis to fill, and XLA:CPU runs the batched skinny products of a vmapped MLP step at
  ~2 GFLOP/s where a single run's are fused into fast kernels (benchmarks/README.md,
  "The runs axis").
- "auto" (the default): "map" on CPU, "vmap" on GPU and TPU.

Both give each run the same numbers up to float round-off (a batched product may sum in another
order); states, checkpoints, padding and sharding do not depend on the strategy.
"""

import jax
from jax import lax
from jax.sharding import Mesh, PartitionSpec

from gan_jax.loop.sharding import RUNS_AXIS

STRATEGIES = ("auto", "vmap", "map")


def resolve(strategy: str, platform: str | None = None) -> str:
    """The strategy that `strategy` means on `platform` (default: jax's default backend):
    "auto" is "map" on CPU and "vmap" on accelerators; the others mean themselves."""
    if strategy not in STRATEGIES:
        raise ValueError(f"runs_axis={strategy!r} is invalid: choose one of {list(STRATEGIES)}")
    if strategy != "auto":
        return strategy
    platform = platform or jax.default_backend()
    return "map" if platform == "cpu" else "vmap"


def over_runs(fn, strategy: str, mesh: Mesh, in_axes: tuple):
    """`fn` of one run, lifted to a leading runs axis as `jax.vmap(fn, in_axes)` would be.

    Args:
      fn: a function of one run's inputs; its outputs all get the runs axis.
      strategy: one of `STRATEGIES`.
      mesh: the runs mesh the inputs are sharded over ("map" splits the runs by device).
      in_axes: per positional argument, 0 (it has the runs axis) or None (shared by every run,
        replicated over the mesh), as for `jax.vmap`.
    """
    if any(axis not in (0, None) for axis in in_axes):
        raise ValueError(f"in_axes={in_axes!r}: each must be 0 or None")
    if resolve(strategy) == "vmap":
        return jax.vmap(fn, in_axes=in_axes)

    def local_runs(*args):
        batched = tuple(a for a, axis in zip(args, in_axes, strict=True) if axis == 0)

        def one_run(run_args):
            run_args = iter(run_args)
            return fn(
                *(next(run_args) if axis == 0 else a for a, axis in zip(args, in_axes, strict=True))
            )

        if jax.tree.leaves(batched)[0].shape[0] == 1:  # no loop: the very program of one run
            out = one_run(jax.tree.map(lambda x: x[0], batched))
            return jax.tree.map(lambda x: x[None], out)
        return lax.map(one_run, batched)

    specs = tuple(PartitionSpec(RUNS_AXIS) if axis == 0 else PartitionSpec() for axis in in_axes)
    # check_vma=False: the runs are independent by construction; the check would ask every scan
    # carry inside the step to be declared varying over the mesh.
    return jax.shard_map(
        local_runs, mesh=mesh, in_specs=specs, out_specs=PartitionSpec(RUNS_AXIS), check_vma=False
    )
