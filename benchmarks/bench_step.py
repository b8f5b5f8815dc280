"""Throughput and compile-time benchmark of the train step (ring protocol, Metz et al. 2016).

  python benchmarks/bench_step.py            # full: what benchmarks/README.md records
  python benchmarks/bench_step.py --quick    # a smoke run

Prints, measured in one process so that the ratios are fair on a noisy machine:
  1. steps/s of a Python loop over a jitted single step vs scanned chunks (k = 5);
  1b. steps/s summed over 8 runs (k = 5): (a) a Python loop over a jitted step, run after run;
     (b) scanned chunks, run after run; (c) the vmapped sweep, all 8 runs in one program;
  2. compile time and peak temporary memory of the chunk vs k, with and without
     jax.checkpoint on the unroll body;
  3. achieved FLOP/s of the scanned step (XLA's cost analysis) vs this machine's large-matmul
     FLOP/s.
"""

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import unrolled  # noqa: E402
from gan_jax.loop.run import init_group_state  # noqa: E402
from gan_jax.loop.sharding import runs_mesh  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402
from gan_jax.step.train import init_state, make_train_chunk, make_train_step  # noqa: E402


def _state(config):
    exp = make_experiment(config)
    return exp, init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))


def _config(k, remat=False):
    config = unrolled.get_config()
    config.unroll.steps = k
    config.unroll.remat = remat
    return config


def _best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def loop_vs_scan(steps, repeats):
    exp, state = _state(_config(5))
    step = jax.jit(make_train_step(exp))
    chunk = jax.jit(make_train_chunk(exp, steps))
    keys = jax.random.split(jax.random.PRNGKey(1), steps)
    jax.block_until_ready(step(state, keys[0]))
    jax.block_until_ready(chunk(state))

    def python_loop():
        s = state
        for key in keys:
            s, _ = step(s, key)
        jax.block_until_ready(s)

    loop_time = _best_of(python_loop, repeats)
    scan_time = _best_of(lambda: jax.block_until_ready(chunk(state)), repeats)
    print(f"\n## Loop vs scan (ring, k = 5, batch 512, {steps} steps, best of {repeats})")
    print("| way | steps/s |\n| --- | --- |")
    print(f"| Python loop over jitted step | {steps / loop_time:.0f} |")
    print(f"| lax.scan chunk | {steps / scan_time:.0f} |")
    print(f"scan / loop = {loop_time / scan_time:.2f}x")
    return scan_time / steps


def sweep_ways(num_runs, steps, repeats):
    """Steps/s summed over `num_runs` runs, three ways; returns seconds per run-step of (c)."""
    configs = []
    for seed in range(num_runs):
        config = _config(5)
        config.seed = seed
        config.optim.d.learning_rate = 1e-4 * (1 + seed % 3)  # dynamic: still one program
        configs.append(config)
    exp, _ = _state(configs[0])
    singles = [init_state(exp, jax.random.PRNGKey(c.seed), dynamic_params(c)) for c in configs]
    step = jax.jit(make_train_step(exp))
    chunk = jax.jit(make_train_chunk(exp, steps))
    stacked = init_group_state(configs, runs_mesh(num_runs))
    sweep = jax.jit(jax.vmap(make_train_chunk(exp, steps)))
    keys = jax.random.split(jax.random.PRNGKey(1), steps)
    jax.block_until_ready((step(singles[0], keys[0]), chunk(singles[0]), sweep(stacked)))

    def loop_each():
        for s in singles:
            for key in keys:
                s, _ = step(s, key)
            jax.block_until_ready(s)

    def scan_each():
        for s in singles:
            jax.block_until_ready(chunk(s))

    times = {
        "(a) Python loop over jitted step, run after run": _best_of(loop_each, repeats),
        "(b) scanned chunks, run after run": _best_of(scan_each, repeats),
        "(c) vmapped sweep, one program": _best_of(
            lambda: jax.block_until_ready(sweep(stacked)), repeats
        ),
    }
    print(f"\n## {num_runs} runs, k = 5, {steps} steps each (best of {repeats})")
    print("| way | run-steps/s (summed over runs) |\n| --- | --- |")
    for way, seconds in times.items():
        print(f"| {way} | {num_runs * steps / seconds:.0f} |")
    values = list(times.values())
    print(f"(c)/(a) = {values[0] / values[2]:.2f}x, (c)/(b) = {values[1] / values[2]:.2f}x")
    return values[2] / (num_runs * steps)


def compile_vs_k(ks):
    print("\n## Compile time and temporary memory of a 100-step chunk vs k")
    print("| k | remat | compile s | temp MiB |\n| --- | --- | --- | --- |")
    for k in ks:
        for remat in (False, True):
            exp, state = _state(_config(k, remat))
            start = time.perf_counter()
            compiled = jax.jit(make_train_chunk(exp, 100)).lower(state).compile()
            seconds = time.perf_counter() - start
            memory = compiled.memory_analysis()
            temp = getattr(memory, "temp_size_in_bytes", float("nan")) / 2**20
            print(f"| {k} | {remat} | {seconds:.2f} | {temp:.2f} |")


def matmul_flops(n=2048, repeats=5):
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    jax.block_until_ready(mm(a))
    seconds = _best_of(lambda: jax.block_until_ready(mm(a)), repeats)
    return 2 * n**3 / seconds


def step_flops(k):
    """FLOPs of one train step with unroll k, from XLA's cost analysis.

    XLA counts a while loop's body once, so the unroll's cost is measured as the difference
    between k = 1 and k = 0 and multiplied by k.
    """

    def flops(steps):
        exp, state = _state(_config(steps))
        cost = jax.jit(make_train_step(exp)).lower(state, jax.random.PRNGKey(1)).compile()
        cost = cost.cost_analysis()
        return (cost[0] if isinstance(cost, list | tuple) else cost)["flops"]

    plain = flops(0)
    return plain + k * (flops(1) - plain)


def achieved_flops(seconds_per_step, label, k=5):
    flops_per_step = step_flops(k)
    peak = matmul_flops()
    achieved = flops_per_step / seconds_per_step
    print(f"\n## Achieved FLOP/s ({label}, k = {k})")
    print(f"XLA cost analysis: {flops_per_step / 1e6:.1f} MFLOP per step")
    print(
        f"achieved {achieved / 1e9:.2f} GFLOP/s; large matmul (2048^2 f32) {peak / 1e9:.2f} "
        f"GFLOP/s; fraction {achieved / peak:.1%}"
    )


def flops_with_and_without_remat(steps=500, repeats=3, k=5):
    """Achieved FLOP/s of one scanned run at k, the unroll rematerialised or not, interleaved.

    Both count the useful FLOPs of the step without remat (the recomputed forward is overhead).
    """
    useful = step_flops(k)
    peak = matmul_flops()
    chunks = {}
    for remat in (False, True):
        exp, state = _state(_config(k, remat))
        chunk = jax.jit(make_train_chunk(exp, steps))
        jax.block_until_ready(chunk(state))
        chunks[remat] = (chunk, state)
    times = {False: [], True: []}
    for _ in range(repeats):
        for remat, (chunk, state) in chunks.items():
            start = time.perf_counter()
            jax.block_until_ready(chunk(state))
            times[remat].append((time.perf_counter() - start) / steps)
    print(f"\n## Achieved FLOP/s, single scanned run, k = {k}: unroll.remat off vs on")
    print(f"useful work {useful / 1e6:.1f} MFLOP per step; large matmul {peak / 1e9:.1f} GFLOP/s")
    print("| unroll.remat | ms / step | GFLOP/s | of the matmul |\n| --- | --- | --- | --- |")
    for remat, measured in times.items():
        seconds = min(measured)
        achieved = useful / seconds
        print(f"| {remat} | {1e3 * seconds:.2f} | {achieved / 1e9:.1f} | {achieved / peak:.1%} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--flops", action="store_true", help="only FLOP/s, remat off vs on")
    args = parser.parse_args()
    if args.flops:
        flops_with_and_without_remat()
        return
    steps, repeats, ks = (50, 1, (1, 5)) if args.quick else (1000, 3, (1, 5, 20))
    print(f"# gan_jax step benchmark: jax {jax.__version__}, {jax.devices()}")
    seconds_per_step = loop_vs_scan(steps, repeats)
    sweep_seconds_per_step = sweep_ways(8, steps // 2, repeats)
    compile_vs_k(ks)
    achieved_flops(seconds_per_step, label="single run, scanned")
    achieved_flops(sweep_seconds_per_step, label="8-run vmapped sweep")


if __name__ == "__main__":
    main()
