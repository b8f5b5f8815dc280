"""Compile time of the tests' programs under the XLA settings tests/conftest.py chooses.

  python benchmarks/compile_time.py            # 3 repeats per setting, each in a fresh process

Lowers and compiles the tiny test config's train chunk (tests/conftest.py `make_tiny_config`,
10 scanned steps) in a fresh process per setting (XLA reads its flags once, at start), with the
persistent compilation cache off, and prints the median compile seconds per setting.
"""

import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = """
import os, sys, time
sys.path[:0] = [{root!r}, {tests!r}]
from conftest import make_tiny_config  # appends the tests' XLA flags: replaced next line
os.environ["XLA_FLAGS"] = {flags!r}
import jax
from gan_jax.step.train import init_run, make_train_chunk
exp, state = init_run(make_tiny_config())  # jax's backend starts here, reading the settings
lowered = jax.jit(make_train_chunk(exp, 10)).lower(state)
start = time.perf_counter()
lowered.compile()
print(time.perf_counter() - start)
"""

SETTINGS = {
    "XLA defaults": {},
    "JAX_DISABLE_MOST_OPTIMIZATIONS=1": {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"},
    "that + --xla_cpu_use_fusion_emitters=false (the tests')": {
        "JAX_DISABLE_MOST_OPTIMIZATIONS": "1",
        "XLA_FLAGS": "--xla_cpu_use_fusion_emitters=false",
    },
}


def compile_seconds(env: dict) -> float:
    code = PROBE.format(
        root=ROOT, tests=os.path.join(ROOT, "tests"), flags=env.get("XLA_FLAGS", "")
    )
    # jax reads JAX_DISABLE_MOST_OPTIMIZATIONS when imported, XLA_FLAGS when its backend starts.
    disable = env.get("JAX_DISABLE_MOST_OPTIMIZATIONS", "0")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            "JAX_COMPILATION_CACHE_DIR": "",
            "JAX_DISABLE_MOST_OPTIMIZATIONS": disable,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main(repeats: int = 3) -> None:
    print(f"| setting | train chunk compile, s (median of {repeats}) |")
    print("| --- | --- |")
    for name, env in SETTINGS.items():
        seconds = [compile_seconds(env) for _ in range(repeats)]
        print(f"| {name} | {statistics.median(seconds):.2f} |")


if __name__ == "__main__":
    main()
