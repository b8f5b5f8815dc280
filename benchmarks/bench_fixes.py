"""What each oscillation fix costs: steps/s of one ring run (batch 512, the configs of
experiments/oscillation) relative to the plain simultaneous NS-GAN (configs/gan.py).

  python benchmarks/bench_fixes.py [--steps=200] [--rounds=5]

Every config's chunk is compiled first, then timed round-robin (one chunk of each config per
round) and the best round kept, so a machine whose load drifts affects all of them alike.
"""

import argparse
import importlib
import os
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_jax.step.config import validate  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402
from gan_jax.step.train import init_state, make_train_chunk  # noqa: E402

CONFIGS = (
    "gan",
    "alternating",
    "ttur",
    "r1",
    "optimistic",
    "extragradient",
    "consensus",
    "unrolled",
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    chunks, states = {}, {}
    for name in CONFIGS:
        config = validate(importlib.import_module(f"configs.{name}").get_config())
        exp = make_experiment(config)
        states[name] = init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))
        chunks[name] = jax.jit(make_train_chunk(exp, args.steps))
        jax.block_until_ready(chunks[name](states[name]))  # compile
    best = {name: float("inf") for name in CONFIGS}
    for _ in range(args.rounds):
        for name in CONFIGS:
            start = time.perf_counter()
            jax.block_until_ready(chunks[name](states[name]))
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"| config | steps/s (best of {args.rounds} rounds of {args.steps}) | cost vs gan |")
    print("| --- | --- | --- |")
    for name in CONFIGS:
        print(f"| {name} | {args.steps / best[name]:.0f} | {best[name] / best['gan']:.2f}x |")


if __name__ == "__main__":
    main()
