"""Prototypes of cuts to the DCGAN step of the real-digit recipe, timed against the step as it is.

  python benchmarks/bench_cuts_dcgan.py                  # the README's tables
  python benchmarks/bench_cuts_dcgan.py --steps 3 --rounds 3 --layer-rounds 3   # quicker

As `bench_cuts.py` does for the MLP step: each variant is the recipe's chunk
(`profile_dcgan.recipe`, one run, the data set an argument) with one change made from outside
gan_jax (a patch while tracing), its final state compared with the unchanged chunk's, all
variants timed in interleaved rounds (A B C ... A B C ...), the median round counting.

  per-phase, image layer  G's last upsampling (to the image's channels) as 16 products of
                       shifted views of the small map, one per tap and output phase (how it ran
                       before `dcgan.COL2IM_MAX_CHANNELS`): the "as is" row now runs it as col2im
                       (one product with all 16 taps' kernels, then the phases as sums of
                       shifted slices of that product), the same sums in another order
  col2im, every layer  every upsampling layer as col2im
  taps as im2col       stride-1 (phase) convolutions as one product of concatenated taps, the
                       way stride-2 ones are computed, instead of a sum of one product per tap
  cheap freeze         the divergence check as one isfinite(sum(x * 0)) per state leaf
                       (`bench_cuts.cheap_freeze_if_diverged`, the same decisions)
  no update cosines    the per-step update-cosine diagnostics dropped (changes the logged metrics,
                       not the state: how much "fewer diagnostics" could save)

The second table times each convolution layer of the step alone (forward, then the gradient
with respect to its input and kernel, in a 2-step `lax.scan` as in training) computed as
`conv2d`'s matrix products (for the upsampling layers per phase and as col2im; the D layers
have one way) and as XLA's `lax.conv_general_dilated` (`CONV_IMPLEMENTATION = "xla"`).
"""

import argparse
import contextlib
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_cuts import cheap_freeze_if_diverged, max_difference  # noqa: E402
from profile_dcgan import patched, recipe  # noqa: E402

from gan_jax.parts.models import dcgan  # noqa: E402
from gan_jax.step import game, train  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402


def _col2im_up_to(channels):
    return lambda: patched([(dcgan, "COL2IM_MAX_CHANNELS", channels)])


def conv2d_im2col(x, kernel, strides=1, padding="SAME"):
    """`dcgan.conv2d`'s matmul path with the taps always concatenated (im2col)."""
    kh, kw, _, features = kernel.shape
    if padding == "SAME":
        padding = tuple(
            dcgan._same_padding(x.shape[axis], size, strides) for axis, size in ((1, kh), (2, kw))
        )
    x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
    out_h, out_w = (x.shape[1] - kh) // strides + 1, (x.shape[2] - kw) // strides + 1
    span_h, span_w = strides * (out_h - 1) + 1, strides * (out_w - 1) + 1
    patches = jnp.concatenate(
        [
            x[:, i : i + span_h : strides, j : j + span_w : strides]
            for i in range(kh)
            for j in range(kw)
        ],
        axis=-1,
    )
    return patches @ kernel.reshape(-1, features)


VARIANTS = {
    "as is": contextlib.nullcontext,
    "per-phase, image layer": _col2im_up_to(0),
    "col2im, every layer": _col2im_up_to(1 << 30),
    "taps as im2col": lambda: patched([(dcgan, "conv2d", conv2d_im2col)]),
    "cheap freeze": lambda: patched([(train, "freeze_if_diverged", cheap_freeze_if_diverged)]),
    "no update cosines": lambda: patched(
        [(game, "update_cosine", lambda a, b: jnp.zeros((), a.dtype))]
    ),
}


def build(config, steps: int, change):
    exp = make_experiment(config)
    state = train.init_state(exp, jax.random.PRNGKey(config.seed), dynamic_params(config))
    with change():
        compiled = jax.jit(train.make_train_chunk(exp, steps)).lower(state, exp.dataset).compile()
    return compiled, (state, exp.dataset)


def interleaved(runners: dict, rounds: int) -> dict:
    """{name: median seconds of one call}, the calls interleaved round by round."""
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            jax.block_until_ready(run())
            times[name].append(time.perf_counter() - start)
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def compare_step(config, steps: int, rounds: int, names=tuple(VARIANTS)) -> dict:
    """{variant: (ms per step, max |state difference| from "as is")} for "as is" and `names`."""
    names = ("as is", *(n for n in names if n != "as is"))
    built = {name: build(config, steps, VARIANTS[name]) for name in names}
    outputs = {name: jax.block_until_ready(fn(*args)[0]) for name, (fn, args) in built.items()}
    seconds = interleaved({n: (lambda f=f, a=a: f(*a)) for n, (f, a) in built.items()}, rounds)
    return {
        name: (1e3 * seconds[name] / steps, max_difference(outputs["as is"], outputs[name]))
        for name in built
    }


def _layers(config):
    """(name, (x, kernel), layer function) for each convolution of the recipe's step."""
    exp = make_experiment(config)
    g = exp.generator
    start, _ = dcgan.conv_schedule(exp.dataset.shape)
    width = g.base_features * 4
    key = jax.random.PRNGKey(0)
    batch = exp.batch_size

    def tensors(shape, kernel_shape):
        return jax.random.normal(key, (batch, *shape)), 0.05 * jax.random.normal(key, kernel_shape)

    up = dcgan.transposed_conv_2x
    return [
        (
            f"G up {start}->{2 * start}, {width}->{width // 2}",
            tensors((start, start, width), (4, 4, width, width // 2)),
            up,
        ),
        (
            f"G up {2 * start}->{4 * start}, {width // 2}->{exp.dataset.shape[-1]}",
            tensors((2 * start, 2 * start, width // 2), (4, 4, width // 2, exp.dataset.shape[-1])),
            up,
        ),
        (
            f"D conv {4 * start}->{2 * start}, {exp.dataset.shape[-1]}->64",
            tensors(
                (4 * start, 4 * start, exp.dataset.shape[-1]), (4, 4, exp.dataset.shape[-1], 64)
            ),
            lambda x, k: dcgan.conv2d(x, k, 2),
        ),
        (
            f"D conv {2 * start}->{start}, 64->128",
            tensors((2 * start, 2 * start, 64), (4, 4, 64, 128)),
            lambda x, k: dcgan.conv2d(x, k, 2),
        ),
    ]


def _scanned_grad(layer):
    """Forward, then the input and kernel gradient, twice in a `lax.scan` (as a train chunk)."""
    grad = jax.grad(lambda x, k: jnp.sum(jnp.sin(layer(x, k))), argnums=(0, 1))

    def chunk(x, k):
        def body(carry, _):
            gx, gk = grad(*carry)
            return (carry[0] + 1e-6 * gx, carry[1] + 1e-6 * gk), None

        return jax.lax.scan(body, (x, k), None, length=2)[0]

    return jax.jit(chunk)


def compare_layers(config, rounds: int) -> dict:
    """{layer: {way: ms per forward + gradient}}."""
    ways = {
        "matmul: per-phase": _col2im_up_to(0),
        "matmul: col2im": _col2im_up_to(1 << 30),
        "XLA conv": lambda: patched([(dcgan, "CONV_IMPLEMENTATION", "xla")]),
    }
    results = {}
    for name, args, layer in _layers(config):
        runners = {}
        for way, change in ways.items():
            if way == "matmul: col2im" and not name.startswith("G"):
                continue
            with change():
                fn = _scanned_grad(layer).lower(*args).compile()
            jax.block_until_ready(fn(*args))
            runners[way] = lambda fn=fn, args=args: fn(*args)
        results[name] = {w: 1e3 * s / 2 for w, s in interleaved(runners, rounds).items()}
    return results


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="steps per chunk")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--layer-rounds", type=int, default=5, help="0: the step table only")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()
    config, what = recipe()
    print(f"# DCGAN cuts: {what}; jax {jax.__version__}; {_load()}")
    result = compare_step(config, args.steps, args.rounds, args.variants)
    base = result["as is"][0]
    print(f"\n## the step: {args.steps}-step chunk, median of {args.rounds} interleaved rounds\n")
    print("| variant | ms / step | speed-up | max abs state diff |\n| --- | --- | --- | --- |")
    for name, (ms, diff) in result.items():
        print(f"| {name} | {ms:.1f} | {base / ms:.2f}x | {diff:.1e} |", flush=True)
    print(f"\n{_load()}")
    if not args.layer_rounds:
        return
    layers = compare_layers(config, args.layer_rounds)
    ways = ("matmul: per-phase", "matmul: col2im", "XLA conv")
    print(
        f"\n## each convolution alone: ms per forward + gradient (input, kernel), scanned, "
        f"median of {args.layer_rounds}\n"
    )
    print("| layer | " + " | ".join(ways) + " |\n| --- |" + " --- |" * len(ways))
    for name, times in layers.items():
        cells = [f"{times[w]:.1f}" if w in times else "" for w in ways]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{_load()}")


if __name__ == "__main__":
    main()
