"""Prototypes of cuts to the train step that keep its numbers, timed against the step as it is.

  python benchmarks/bench_cuts.py                 # k = 0 and 5, one run and 8 vmapped runs
  python benchmarks/bench_cuts.py --ks 5 --runs 1 --rounds 3 --steps 20   # quicker

Each variant builds the ring chunk (configs/unrolled.py) with one change, made from outside
gan_jax (a config field, a patch while tracing, or a jax lowering rule), checks that its final
state matches the unchanged chunk's, and is timed in rounds that interleave all variants
(A B C ... A B C ...), so machine load hits them alike; the median round counts.

  remat             unroll.remat = True: jax.checkpoint on the unroll body (a config field)
  threefry unrolled the CPU lowering of threefry2x32 with its 5 rounds unrolled, as jax lowers
                    it on GPU (on CPU jax emits a while loop, whose carries XLA copies), same bits
  scan unroll       the inner scans (the unroll, the D phase) with `lax.scan(..., unroll=True)`
  cheap freeze      the divergence check as one isfinite(sum(x * 0)) per state, not isfinite
                    per element and a stack (same decisions: x * 0 is NaN iff x is NaN or Inf)
  all               the four together
"""

import argparse
import contextlib
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import unrolled  # noqa: E402
from gan_jax.loop.run import init_group_state  # noqa: E402
from gan_jax.loop.sharding import runs_mesh  # noqa: E402
from gan_jax.step import train  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402


@contextlib.contextmanager
def threefry_unrolled():
    """While tracing: threefry2x32 lowered with unrolled rounds on CPU (its GPU lowering)."""
    from jax._src.interpreters import mlir
    from jax._src.random import threefry2x32 as tf

    mlir.register_lowering(tf.threefry2x32_p, tf._threefry2x32_lowering_rule, platform="cpu")
    try:
        yield
    finally:
        mlir.register_lowering(
            tf.threefry2x32_p, tf._threefry2x32_cpu_lowering_rule, platform="cpu"
        )


class _UnrolledScans:
    """`jax.lax` whose `scan` over given xs (the unroll, the D phase) is fully unrolled; the
    chunk's scan (xs None) stays a loop."""

    def __getattr__(self, name):
        return getattr(jax.lax, name)

    @staticmethod
    def scan(f, init, xs=None, length=None, **kwargs):
        if xs is not None:
            kwargs.setdefault("unroll", True)
        return jax.lax.scan(f, init, xs, length=length, **kwargs)


@contextlib.contextmanager
def scan_unroll():
    saved, train.lax = train.lax, _UnrolledScans()
    try:
        yield
    finally:
        train.lax = saved


def cheap_freeze_if_diverged(old, new, step_metrics):
    """`train.freeze_if_diverged` with the finiteness test as one sum per leaf."""
    leaves = jax.tree.leaves((new, step_metrics))
    floats = [x for x in leaves if jnp.issubdtype(x.dtype, jnp.floating)]
    finite = jnp.isfinite(sum(jnp.sum(x * 0) for x in floats))
    keep_new = finite & (old.diverged_at < 0)
    frozen = jax.tree.map(lambda n, o: jnp.where(keep_new, n, o), new, old)
    diverged_at = jnp.where((old.diverged_at < 0) & ~finite, old.step, old.diverged_at)
    return frozen.replace(step=new.step, diverged_at=diverged_at)


@contextlib.contextmanager
def cheap_freeze():
    saved, train.freeze_if_diverged = train.freeze_if_diverged, cheap_freeze_if_diverged
    try:
        yield
    finally:
        train.freeze_if_diverged = saved


VARIANTS = {
    "as is": (),
    "remat": ("remat",),
    "threefry unrolled": (threefry_unrolled,),
    "scan unroll": (scan_unroll,),
    "cheap freeze": (cheap_freeze,),
    "all": ("remat", threefry_unrolled, scan_unroll, cheap_freeze),
}


def build(k: int, num_runs: int, steps: int, changes):
    """(compiled chunk, argument) with `changes` (context managers, or "remat") in effect."""
    configs = []
    for seed in range(num_runs):
        config = unrolled.get_config()
        config.unroll.steps, config.seed = k, seed
        config.unroll.remat = "remat" in changes
        configs.append(config)
    exp = make_experiment(configs[0])
    with contextlib.ExitStack() as stack:
        for change in changes:
            if change != "remat":
                stack.enter_context(change())
        if num_runs == 1:
            arg = train.init_state(exp, jax.random.PRNGKey(0), dynamic_params(configs[0]))
            fn = jax.jit(train.make_train_chunk(exp, steps))
        else:
            arg = init_group_state(configs, runs_mesh(num_runs))
            fn = jax.jit(jax.vmap(train.make_train_chunk(exp, steps)))
        return fn.lower(arg).compile(), arg


def max_difference(a, b) -> float:
    """Largest absolute difference between the float leaves of two states."""
    diffs = [
        float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
        if np.issubdtype(np.asarray(x).dtype, np.floating) and np.size(x)
    ]
    return max(diffs)


def compare(k: int, num_runs: int, steps: int, rounds: int) -> dict:
    """{variant: (ms per run-step, max |state difference| from "as is")}."""
    built = {name: build(k, num_runs, steps, changes) for name, changes in VARIANTS.items()}
    reference = jax.block_until_ready(built["as is"][0](built["as is"][1])[0])
    diffs = {}
    for name, (fn, arg) in built.items():
        diffs[name] = max_difference(reference, jax.block_until_ready(fn(arg)[0]))
    times = {name: [] for name in built}
    for _ in range(rounds):
        for name, (fn, arg) in built.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(arg))
            times[name].append(time.perf_counter() - start)
    return {
        name: (1e3 * sorted(t)[len(t) // 2] / (steps * num_runs), diffs[name])
        for name, t in times.items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    flags = os.environ.get("XLA_FLAGS")
    print(f"# cuts: jax {jax.__version__}, {jax.devices()}, XLA_FLAGS={flags}")
    for num_runs in args.runs:
        for k in args.ks:
            result = compare(k, num_runs, args.steps, args.rounds)
            base = result["as is"][0]
            print(
                f"\n## k = {k}, {num_runs} run(s), {args.steps}-step chunk, "
                f"median of {args.rounds} interleaved rounds"
            )
            print("| variant | ms per run-step | speed-up | max abs state diff |")
            print("| --- | --- | --- | --- |")
            for name, (ms, diff) in result.items():
                print(f"| {name} | {ms:.3f} | {base / ms:.2f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
