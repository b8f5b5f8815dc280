"""How a sweep group's compiled program walks its runs (DESIGN.md, "The runs axis").

A group's runs share one compiled program whose inputs carry a leading runs axis, sharded over
a 1D mesh (`sharding.runs_mesh`). How it computes along that axis is a strategy:

- "vmap": one batched program; each matrix product gains a batch dimension. What accelerators
  want: many small runs fill a device that one run leaves idle.
- "map": each device walks its own runs one after another inside the program (`lax.map` inside
  `shard_map`), each run with the single-run kernels.
- "loop": each device's runs go one after another through the single-run program itself, the
  host dispatching it once per run per chunk (asynchronously, so devices still run at once).
  What a CPU wants: two cores have nothing idle for a runs axis to fill, XLA:CPU runs a vmapped
  MLP step's batched skinny products at ~2 GFLOP/s where a single run's are fused into fast
  kernels, and the single-run program nested in `lax.map` measured slower than alone
  (benchmarks/README.md, "The runs axis"). It compiles one single-run program, and gives every
  run exactly the numbers it gets trained alone.
- "auto" (the default): "loop" on CPU, "vmap" on GPU and TPU.

All give each run the same numbers up to float round-off (a batched product may sum in another
order); states, checkpoints, padding and sharding do not depend on the strategy.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.sharding import Mesh, PartitionSpec, SingleDeviceSharding

from gan_jax.loop.sharding import RUNS_AXIS, runs_sharding

STRATEGIES = ("auto", "vmap", "map", "loop")


def resolve(strategy: str, platform: str | None = None) -> str:
    """The strategy that `strategy` means on `platform` (default: jax's default backend):
    "auto" is "loop" on CPU and "vmap" on accelerators; the others mean themselves."""
    if strategy not in STRATEGIES:
        raise ValueError(f"runs_axis={strategy!r} is invalid: choose one of {list(STRATEGIES)}")
    if strategy != "auto":
        return strategy
    platform = platform or jax.default_backend()
    return "loop" if platform == "cpu" else "vmap"


def compiled_over_runs(fn, strategy: str, mesh: Mesh, in_axes: tuple, donate_argnums=()):
    """`jax.jit(jax.vmap(fn, in_axes), donate_argnums=...)` walking the runs by `strategy`: a
    callable of the stacked, mesh-sharded inputs that returns stacked, mesh-sharded outputs."""
    if resolve(strategy) != "loop":
        return jax.jit(over_runs(fn, strategy, mesh, in_axes), donate_argnums=donate_argnums)
    return _RunLoop(jax.jit(fn, donate_argnums=donate_argnums), mesh, in_axes)


class _RunLoop:
    """The "loop" strategy: the single-run program called on each run of each device's shard,
    the outputs restacked into arrays sharded like the inputs (`sharding.runs_sharding`). Every
    process handles the shards of its own devices, so it works across processes too."""

    def __init__(self, one_run, mesh: Mesh, in_axes: tuple):
        if any(axis not in (0, None) for axis in in_axes):
            raise ValueError(f"in_axes={in_axes!r}: each must be 0 or None")
        self.one_run, self.mesh, self.in_axes = one_run, mesh, in_axes

    def __call__(self, *args):
        batched = [a for a, axis in zip(args, self.in_axes, strict=True) if axis == 0]
        first = jax.tree.leaves(batched)[0]
        num_runs = first.shape[0]
        outputs = []  # per addressable device: its runs' outputs, stacked
        for shard in first.addressable_shards:
            device, runs = shard.device, range(num_runs)[shard.index[0]]

            def local(x, device=device):  # this device's copy (a run block or a shared value)
                if not isinstance(x, jax.Array):
                    return x
                data = next(s.data for s in x.addressable_shards if s.device == device)
                # One sharding type for every call (no copy): a shard of a jit output on a
                # 1-device mesh carries that mesh's NamedSharding, a restacked one a
                # SingleDeviceSharding, and jit compiles the program again for each.
                return jax.device_put(data, SingleDeviceSharding(device))

            local_args = [jax.tree.map(local, a) for a in args]
            split = [
                unstack_runs(a, len(runs)) if axis == 0 else None
                for a, axis in zip(local_args, self.in_axes, strict=True)
            ]
            per_run = [
                self.one_run(
                    *(
                        parts[j] if axis == 0 else a
                        for a, parts, axis in zip(local_args, split, self.in_axes, strict=True)
                    )
                )
                for j in range(len(runs))
            ]
            outputs.append(stack_runs(per_run))
        sharding = runs_sharding(self.mesh)

        def assemble(*blocks):
            shape = (num_runs, *blocks[0].shape[1:])
            return jax.make_array_from_single_device_arrays(shape, sharding, list(blocks))

        return jax.tree.map(assemble, *outputs)


# The runs of a device's block taken apart and put back together as one program each, not one
# tiny program per leaf shape (eager `x[j]` and `jnp.stack` compile ~50 of those per state).
@functools.partial(jax.jit, static_argnums=1)
def unstack_runs(tree, num_runs: int) -> list:
    """The first `num_runs` runs of a stacked `tree`, each its own tree (one program)."""
    return [jax.tree.map(lambda x, j=j: x[j], tree) for j in range(num_runs)]


@jax.jit
def stack_runs(trees: list):
    """Trees of single runs stacked on a new leading runs axis (one program)."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def over_runs(fn, strategy: str, mesh: Mesh, in_axes: tuple):
    """`fn` of one run, lifted to a leading runs axis as `jax.vmap(fn, in_axes)` would be, inside
    a trace.

    Args:
      fn: a function of one run's inputs; its outputs all get the runs axis.
      strategy: "vmap" or "map" (traceable; "loop" is `compiled_over_runs` only).
      mesh: the runs mesh the inputs are sharded over ("map" splits the runs by device).
      in_axes: per positional argument, 0 (it has the runs axis) or None (shared by every run,
        replicated over the mesh), as for `jax.vmap`.
    """
    if any(axis not in (0, None) for axis in in_axes):
        raise ValueError(f"in_axes={in_axes!r}: each must be 0 or None")
    if resolve(strategy) == "loop":
        raise ValueError('runs_axis "loop" runs outside a trace: use compiled_over_runs')
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
