"""The accelerator benchmark that `benchmarks/gpu.sh` runs: ring sweep throughput and DCGAN step.

  python benchmarks/gpu_bench.py --out results.md            # on the GPU (H200 peaks)
  python benchmarks/gpu_bench.py --dry-run --out results.md  # tiny sizes, one row per table

1. The ring study (configs/unrolled.py: G 256 -> 128 -> 128 -> 2, D 2 -> 128 -> 1, batch 512,
   Adam, k = 5 second order) as a vmapped sweep of 1 / 8 / 64 / 512 runs (and 8 runs one after
   another, `sweep.runs_axis="map"`, to check what "auto" picks), one compiled chunk of
   `--steps` steps each: run-steps/s (summed over runs) and achieved FLOP/s (XLA's cost analysis
   of one step, the unroll's while body counted k times) against the device's peak and a large
   matmul measured on it.
2. The DCGAN train step at MNIST size (batch 64, latent 100, base_features 64), scanned, with
   both `dcgan.conv2d` paths: "xla" (`lax.conv_general_dilated`, the default off CPU) and
   "matmul" (shifted views and matrix products, the default on CPU).

Every number goes to one markdown file (`--out`, appended), and to stdout.
"""

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import default, unrolled  # noqa: E402
from gan_jax.loop import backend, runs_axis  # noqa: E402
from gan_jax.loop.run import init_group_state  # noqa: E402
from gan_jax.loop.sharding import replicate, runs_mesh  # noqa: E402
from gan_jax.parts import objectives, optim, penalties  # noqa: E402
from gan_jax.parts.models import dcgan  # noqa: E402
from gan_jax.step.experiment import (  # noqa: E402
    Experiment,
    Unroll,
    dynamic_params,
    make_experiment,
)
from gan_jax.step.train import init_state, make_train_chunk, make_train_step  # noqa: E402

# Dense peaks of one H200 SXM (NVIDIA's data sheet, without sparsity), FLOP/s. jax's f32 matmuls
# on Hopper run at DEFAULT precision, which XLA may lower to TF32 tensor cores.
H200_PEAKS = {"f32 (CUDA cores)": 67e12, "tf32 tensor": 494.7e12, "bf16 tensor": 989e12}


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (compiled already)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def ring_config(k: int, tiny: bool):
    """The ring config with unroll k; `tiny` shrinks the networks and batch for a dry run."""
    config = unrolled.get_config()
    config.unroll.steps = k
    if tiny:
        config.batch_size = 32
        config.model.g.latent_dim = 8
        config.model.g.hidden_sizes = (16, 16)
        config.model.d.hidden_sizes = (16,)
    return config


def step_flops(config) -> float:
    """FLOPs of one (unvmapped) train step: XLA counts a while body once, so the unroll is
    cost(k = 1) - cost(k = 0) per unrolled step."""

    def flops(k):
        c = config.copy_and_resolve_references()
        c.unroll.steps = k
        exp = make_experiment(c)
        state = init_state(exp, jax.random.PRNGKey(0), dynamic_params(c))
        compiled = jax.jit(make_train_step(exp)).lower(state, jax.random.PRNGKey(1)).compile()
        cost = compiled.cost_analysis()
        return (cost[0] if isinstance(cost, list | tuple) else cost)["flops"]

    plain = flops(0)
    return plain + config.unroll.steps * (flops(1) - plain) if config.unroll.steps else plain


def matmul_flops(n: int, dtype, repeats: int = 5) -> float:
    """FLOP/s of an n x n matmul in `dtype` on the default device."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32).astype(dtype)
    mm = jax.jit(lambda x: x @ x)
    seconds = _median_seconds(lambda: jax.block_until_ready(mm(a)), repeats)
    return 2 * n**3 / seconds


def ring_sweep(
    num_runs: int, k: int, steps: int, repeats: int, tiny: bool, strategy: str = "vmap"
) -> dict:
    """Run-steps/s and compile seconds of `num_runs` ring runs, one chunk each, the runs axis
    walked by `strategy` (`gan_jax.loop.runs_axis`: "vmap" or "map")."""
    configs = []
    for seed in range(num_runs):
        config = ring_config(k, tiny)
        config.seed = seed
        config.optim.d.learning_rate = 1e-4 * (1 + seed % 3)  # dynamic: still one program
        configs.append(config)
    exp = make_experiment(configs[0])
    mesh = runs_mesh(num_runs)
    stacked = init_group_state(configs, mesh)
    dataset = replicate(exp.dataset, mesh)
    chunk = runs_axis.over_runs(make_train_chunk(exp, steps), strategy, mesh, in_axes=(0, None))
    start = time.perf_counter()
    sweep = jax.jit(chunk).lower(stacked, dataset).compile()
    compile_s = time.perf_counter() - start
    seconds = _median_seconds(lambda: jax.block_until_ready(sweep(stacked, dataset)), repeats)
    return {"run_steps_per_s": num_runs * steps / seconds, "compile_s": compile_s}


class StandInImages:
    """MNIST-sized stand-in data: uniform random uint8 images scaled to [-1, 1], on device."""

    name = "mnist_standin"

    def __init__(self, shape):
        self.shape = shape

    def sample(self, key, n):
        pixels = jax.random.randint(key, (n, *self.shape), 0, 256, jnp.int32)
        return pixels.astype(jnp.float32) / 127.5 - 1.0


def dcgan_step_ms(conv: str, steps: int, repeats: int, tiny: bool) -> float:
    """ms per scanned DCGAN train step with `dcgan.conv2d` computing as `conv`."""
    config = default.get_config()
    shape, batch, latent, features = ((8, 8, 1), 4, 8, 4) if tiny else ((28, 28, 1), 64, 100, 64)
    exp = Experiment(
        dataset=StandInImages(shape),
        generator=dcgan.DCGANGenerator(shape, latent_dim=latent, base_features=features),
        discriminator=dcgan.DCGANDiscriminator(base_features=features),
        objective=objectives.get_objective("nonsaturating"),
        penalty=penalties.PENALTIES["none"],
        g_optimizer=optim.make_optimizer(config.optim.g),
        d_optimizer=optim.make_optimizer(config.optim.d),
        batch_size=batch,
        n_d_steps=1,
        update_order="alternating",
        unroll=Unroll(steps=0, second_order=True, fresh_batches=False, remat=False),
        eval_samples=batch,
    )
    saved, dcgan.CONV_IMPLEMENTATION = dcgan.CONV_IMPLEMENTATION, conv
    try:  # the switch is read while tracing, so compile inside it
        state = init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))
        chunk = jax.jit(make_train_chunk(exp, steps)).lower(state).compile()
    finally:
        dcgan.CONV_IMPLEMENTATION = saved
    return 1e3 * _median_seconds(lambda: jax.block_until_ready(chunk(state)), repeats) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="markdown file the results are appended to")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes, seconds, on any device")
    parser.add_argument("--runs", type=int, nargs="+", default=None)
    parser.add_argument("--k", type=int, default=None, help="unrolled D steps (5; dry run 0)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed chunk")
    args = parser.parse_args()
    tiny = args.dry_run
    if tiny:  # compiles in a fraction of the time; the dry run checks wiring, not speed
        jax.config.update("jax_disable_most_optimizations", True)
    # The dry run checks the script's wiring, not the unroll (tests/test_unroll.py does): k = 0
    # compiles in a third of k = 1's time.
    k = args.k if args.k is not None else (0 if tiny else 5)
    runs = args.runs or ([2] if tiny else [1, 8, 64, 512])
    steps = args.steps or (3 if tiny else 200)
    repeats = 1 if tiny else 5
    lines = [f"## gan_jax accelerator benchmark ({'dry run, tiny sizes' if tiny else 'full'})", ""]
    lines.append(f"backend: {backend.line(backend.describe())}")

    def emit(*new):
        lines.extend(new)
        print(*new, sep="\n", flush=True)

    print("\n".join(lines), flush=True)
    n = 256 if tiny else 8192
    peaks = {
        f"{jnp.dtype(d).name} {n}^2 matmul, measured": matmul_flops(n, d)
        for d in (jnp.float32, jnp.bfloat16)
    }
    if backend.describe()["backend"] == "gpu":
        peaks.update({f"H200 {name}, data sheet": value for name, value in H200_PEAKS.items()})
    emit("", "| peak | TFLOP/s |", "| --- | --- |")
    emit(*(f"| {name} | {value / 1e12:.2f} |" for name, value in peaks.items()))

    flops = step_flops(ring_config(k, tiny))
    emit(
        "",
        f"### Ring sweep, k = {k} second order, {steps} steps per chunk "
        f"({flops / 1e6:.1f} MFLOP per run-step, XLA cost analysis)",
        "",
    )
    emit(
        "| runs | runs_axis | run-steps/s | compile s | achieved TFLOP/s | "
        + " | ".join(f"% of {name}" for name in peaks)
        + " |",
        "| --- | --- | --- | --- | --- |" + " --- |" * len(peaks),
    )
    # "map" (one run after another) only at a few runs: what `auto` would give up on a GPU. The
    # dry run writes one row per table (the rows differ only in their arguments; tests/test_sweep
    # checks "map" itself), since each row compiles a program of its own.
    cases = [(n, "vmap") for n in runs] + [(n, "map") for n in runs if 1 < n <= 8 and not tiny]
    for num_runs, strategy in cases:
        result = ring_sweep(num_runs, k, steps, repeats, tiny, strategy)
        achieved = result["run_steps_per_s"] * flops
        emit(
            f"| {num_runs} | {strategy} | {result['run_steps_per_s']:.0f} | "
            f"{result['compile_s']:.1f} | "
            f"{achieved / 1e12:.3f} | "
            + " | ".join(f"{achieved / peak:.2%}" for peak in peaks.values())
            + " |"
        )

    emit(
        "",
        "### DCGAN step (MNIST size, batch 64, scanned)",
        "",
        "| dcgan.conv2d | ms/step |",
        "| --- | --- |",
    )
    for conv in ("matmul",) if tiny else ("xla", "matmul"):  # both: tests/test_dcgan.py
        emit(f"| {conv} | {dcgan_step_ms(conv, 2 if tiny else 50, repeats, tiny):.2f} |")
    with open(args.out, "a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
