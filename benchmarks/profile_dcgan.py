"""Where the DCGAN step's time goes on the real digits (mnist_5k), per part and per HLO op kind,
and what an eval costs.

  python benchmarks/profile_dcgan.py                       # the README's tables
  python benchmarks/profile_dcgan.py --steps 5 --repeats 3 --eval-samples 1000   # quick

The recipe: configs/mnist_5k_dcgan.py when it exists, else configs/mnist_dcgan.py with
data.name = "mnist_5k" (the same networks: G z100 -> 7x7x256 -> 14x14x128 -> 28x28x1, D 28 ->
14 -> 7 -> logit, batch 64). The step is profiled as `profile_step.py` profiles the MLP step,
with its tracing functions: named scopes patched in from outside (nothing in gan_jax changes),
a chunk run under `jax.profiler.trace`, every XLA:CPU thunk's self time attributed to a part
through its HLO instruction's `op_name`. The chunk takes the data set as an argument, as
training does. G's name stack (Flax module names) splits G into its dense layer, its transposed
convolutions (`Upsample_i`) and the rest (LayerNorm, ReLU, tanh). The second table sorts the
same op time by HLO opcode. The eval is the jitted `make_evaluate` (G samples, then the
classifier metrics), profiled the same way, its parts by scopes patched onto
`gan_jax.metrics.images`' functions; its share of training is one eval per `eval_every` steps.
"""

import argparse
import collections
import contextlib
import os
import re
import subprocess
import sys

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import profile_step  # noqa: E402
from profile_step import (  # noqa: E402
    _scope,
    _trace_events,
    instruction_op_names,
    patched,
    self_times,
    wall_seconds,
)

from gan_jax.metrics import images as image_metrics  # noqa: E402
from gan_jax.parts.data.images import ImageDataset  # noqa: E402
from gan_jax.step import train  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402

BOOKKEEPING = "scan bookkeeping (loop, copies, metric stacking)"
PARTS = (
    "real batch (image gather)",
    "latents z (threefry normal)",
    "keys (split, fold_in)",
    "G forward: dense layer",
    "G forward: transposed conv 1 (7x7 -> 14x14)",
    "G forward: transposed conv 2 (14x14 -> image)",
    "G forward: norm + activations",
    "G backward: dense layer",
    "G backward: transposed conv 1 (7x7 -> 14x14)",
    "G backward: transposed conv 2 (14x14 -> image)",
    "G backward: norm + activations",
    "D phase: D loss fwd + grad",
    "D phase: Adam",
    "G loss through D (fwd + bwd)",
    "G Adam",
    "G weights EMA",
    "diagnostics (grad norms, update cosines)",
    "divergence check (isfinite, select)",
    BOOKKEEPING,
)
MATMUL = 2048  # the achieved FLOP/s are compared with a MATMUL^2 f32 matrix product's
KINDS = ("dot", "convolution", "fusion with a dot", "fusion", "copy", "other")
EVAL_PARTS = (
    "latents z",
    "G samples",
    "classifier features",
    "FD",
    "k-NN radii (precision, recall, density, coverage)",
    "k-NN ball counts",
    "KID",
    "IS analogue",
    "other",
)


def recipe():
    """(config, what it is): the real-digit DCGAN recipe (module docstring)."""
    try:
        from configs import mnist_5k_dcgan

        return mnist_5k_dcgan.get_config(), "configs/mnist_5k_dcgan.py"
    except ImportError:
        from configs import mnist_dcgan

        config = mnist_dcgan.get_config()
        config.data.name = "mnist_5k"
        return config, 'configs/mnist_dcgan.py with data.name="mnist_5k"'


def _g_layer(segment: str) -> str:
    """'Upsample_1' -> 'transposed conv 2 (14x14 -> image)' (the recipe's sizes; a G with
    more blocks gets parts outside `PARTS`, which the tables append)."""
    bare = profile_step._bare(segment)
    if bare.startswith("Dense"):
        return "dense layer"
    if bare.startswith("Upsample_"):
        number = int(bare.removeprefix("Upsample_")) + 1
        sizes = {1: " (7x7 -> 14x14)", 2: " (14x14 -> image)"}.get(number, "")
        return f"transposed conv {number}{sizes}"
    return "norm + activations"


def part_of(op_name: str) -> str:
    """The part of the DCGAN step an HLO op belongs to, from its `op_name` (a name stack)."""
    segments = op_name.split("/")
    bare = [profile_step._bare(s) for s in segments]
    if "ema" in bare:
        return "G weights EMA"
    if "DCGANGenerator" in bare and not {"freeze", "diagnostics", "data"} & set(bare):
        index = bare.index("DCGANGenerator")
        side = "backward" if segments[index].startswith("transpose(") else "forward"
        inner = segments[index + 1] if index + 1 < len(segments) else ""
        return f"G {side}: {_g_layer(inner)}"
    part = profile_step.part_of(op_name.replace("DCGANDiscriminator", "MLPDiscriminator"))
    return {"real batch (ring sample)": "real batch (image gather)"}.get(part, part)


def instruction_kinds(hlo_text: str) -> dict[str, str]:
    """HLO instruction name -> one of `KINDS`, from its opcode (a fusion whose computation holds
    a dot or a convolution counts apart from the elementwise ones)."""
    with_dot, kinds, fusions = set(), {}, {}
    computation = None
    for line in hlo_text.splitlines():
        header = re.match(r"\s*(?:ENTRY )?%?([\w.\-]+) .*\{\s*$", line)
        if header and "=" not in line.split("{")[0]:
            computation = header.group(1)
            continue
        match = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = .*? ([\w\-]+)\(", line)
        if not match:
            continue
        name, opcode = match.groups()
        if opcode in ("dot", "convolution"):
            with_dot.add(computation)
        if opcode == "fusion":
            called = re.search(r"calls=%?([\w.\-]+)", line)
            fusions[name] = called.group(1) if called else ""
        kinds[name] = opcode if opcode in KINDS else "other"
    for name, called in fusions.items():
        kinds[name] = "fusion with a dot" if called in with_dot else "fusion"
    return kinds


def by(label_of, names: dict[str, str], times: dict[str, float]) -> dict[str, float]:
    """Self time (µs) per label, over the trace's events that are HLO instructions."""
    totals = collections.Counter()
    for name, micros in times.items():
        if name in names:
            totals[label_of(names[name])] += micros
    return dict(totals)


def step_scopes():
    """profile_step's scopes, with the image set's sample as "data"."""
    stack = contextlib.ExitStack()
    stack.enter_context(profile_step.scoped_parts())
    stack.enter_context(
        patched(
            [
                (ImageDataset, "sample", _scope(ImageDataset.sample, "data")),
                (train, "update_ema", _scope(train.update_ema, "ema")),
            ]
        )
    )
    return stack


def build_chunk(config, steps: int, scoped: bool = True):
    """(compiled chunk, its arguments): one run's `steps`-step chunk, the data set an argument."""
    exp = make_experiment(config)
    state = train.init_state(exp, jax.random.PRNGKey(config.seed), dynamic_params(config))
    if scoped:
        exp = profile_step.scoped_experiment(exp)
    with step_scopes() if scoped else contextlib.nullcontext():
        compiled = jax.jit(train.make_train_chunk(exp, steps)).lower(state, exp.dataset).compile()
    return compiled, (state, exp.dataset)


def profile_step_parts(config, steps: int, repeats: int) -> dict:
    """{"wall_ms", "unscoped_ms", "parts", "kinds"} per step for the recipe's chunk."""
    compiled, args = build_chunk(config, steps)
    plain, plain_args = build_chunk(config, steps, scoped=False)
    square = jax.random.normal(jax.random.PRNGKey(0), (MATMUL, MATMUL))
    matmul = jax.jit(lambda a: a @ a).lower(square).compile()
    walls, plains, matmuls = [], [], []
    for _ in range(repeats):  # interleaved, so load hits all alike
        walls.append(_wall(compiled, args))
        plains.append(_wall(plain, plain_args))
        matmuls.append(min(_wall(matmul, (square,)) for _ in range(3)))
    times = self_times(_trace_events(compiled, *args))
    hlo = compiled.as_text()
    parts = by(part_of, instruction_op_names(hlo), times)
    kinds = by(lambda kind: kind, instruction_kinds(hlo), times)
    exp = make_experiment(config)
    step = jax.jit(train.make_train_step(exp)).lower(args[0], jax.random.PRNGKey(1)).compile()
    cost = step.cost_analysis()
    return {
        "gflop": (cost[0] if isinstance(cost, list | tuple) else cost)["flops"] / 1e9,
        "matmul_gflops": 2 * MATMUL**3 / _median(matmuls) / 1e9,
        "wall_ms": 1e3 * _median(walls) / steps,
        "unscoped_ms": 1e3 * _median(plains) / steps,
        "parts": {p: parts.get(p, 0.0) / 1e3 / steps for p in (*PARTS, *parts) if p},
        "kinds": {k: kinds.get(k, 0.0) / 1e3 / steps for k in KINDS},
    }


def eval_part_of(op_name: str) -> str:
    """The part of an eval an HLO op belongs to (the scopes of `eval_scopes`)."""
    bare = [profile_step._bare(s) for s in op_name.split("/")]
    for scope, part in (
        ("knn_radii", EVAL_PARTS[4]),
        ("ball_counts", EVAL_PARTS[5]),
        ("fd", "FD"),
        ("kid", "KID"),
        ("inception_score", "IS analogue"),
        ("Classifier", "classifier features"),
        ("DCGANGenerator", "G samples"),
        ("_normal", "latents z"),
    ):
        if scope in bare:
            return part
    return "other"


def eval_scopes():
    m = image_metrics
    return patched(
        [
            (m, "knn_radii_squared", _scope(m.knn_radii_squared, "knn_radii")),
            (m, "ball_counts", _scope(m.ball_counts, "ball_counts")),
            (m, "frechet_distance_to_reference", _scope(m.frechet_distance_to_reference, "fd")),
            (m, "kid_subset_indices", _scope(m.kid_subset_indices, "kid")),
            (m, "kernel_means_within", _scope(m.kernel_means_within, "kid")),
            (m, "kernel_means_across", _scope(m.kernel_means_across, "kid")),
            (m, "kid_from_kernel_means", _scope(m.kid_from_kernel_means, "kid")),
            (m, "inception_score", _scope(m.inception_score, "inception_score")),
        ]
    )


def profile_eval(config, repeats: int) -> dict:
    """{"wall_s": one jitted eval, "parts": s per eval by part} (the classifier is trained on
    first use and cached, outside the timing)."""
    exp = make_experiment(config)
    state = train.init_state(exp, jax.random.PRNGKey(config.seed), dynamic_params(config))
    with eval_scopes():
        evaluate = jax.jit(train.make_evaluate(exp)).lower(state).compile()
    wall = wall_seconds(evaluate, state, repeats)
    times = self_times(_trace_events(evaluate, state))
    parts = by(eval_part_of, instruction_op_names(evaluate.as_text()), times)
    return {"wall_s": wall, "parts": {p: parts.get(p, 0.0) / 1e6 for p in EVAL_PARTS}}


def _wall(compiled, args) -> float:
    import time

    start = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    return time.perf_counter() - start


def _median(values):
    return sorted(values)[len(values) // 2]


def _rows(values: dict, total: float, digits: int = 2) -> list[str]:
    return [f"| {name} | {v:.{digits}f} | {v / total:.0%} |" for name, v in values.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per profiled chunk")
    parser.add_argument("--repeats", type=int, default=5, help="wall-time repeats (median)")
    parser.add_argument(
        "--eval-samples", type=int, default=None, help="eval.num_samples (default: the recipe's)"
    )
    parser.add_argument("--no-eval", action="store_true", help="profile the step only")
    args = parser.parse_args()
    config, what = recipe()
    if args.eval_samples:
        config.eval.num_samples = args.eval_samples
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"# DCGAN step profile: {what}; jax {jax.__version__}, {jax.devices()}; {load}")
    result = profile_step_parts(config, args.steps, args.repeats)
    op_ms = sum(result["parts"].values())
    print(f"\nms per step (share of op time), {args.steps}-step chunk\n")
    print("| part | ms / step | share |\n| --- | --- | --- |")
    print("\n".join(_rows(result["parts"], op_ms)))
    print(f"| **op time, sum** | **{op_ms:.2f}** | |")
    print(
        f"| wall ms per step (scoped / as trained) | {result['wall_ms']:.2f} / "
        f"{result['unscoped_ms']:.2f} | |"
    )
    achieved = result["gflop"] / result["unscoped_ms"] * 1e3
    print(
        f"\nXLA cost analysis: {result['gflop']:.2f} GFLOP per step; as trained "
        f"{achieved:.1f} GFLOP/s, a {MATMUL}^2 f32 matmul {result['matmul_gflops']:.1f} "
        f"GFLOP/s (interleaved): {achieved / result['matmul_gflops']:.0%}"
    )
    print("\nby HLO op kind\n\n| kind | ms / step | share |\n| --- | --- | --- |")
    print("\n".join(_rows(result["kinds"], sum(result["kinds"].values()))))
    if args.no_eval:
        return
    evaluation = profile_eval(config, max(1, args.repeats // 2))
    train_s = config.eval_every * result["unscoped_ms"] / 1e3
    share = evaluation["wall_s"] / (evaluation["wall_s"] + train_s)
    print(
        f"\neval ({config.eval.num_samples} samples): {evaluation['wall_s']:.2f} s wall; "
        f"every {config.eval_every} steps ({train_s:.0f} s of training): {share:.1%} of the "
        f"run\n\n| eval part | s / eval | share |\n| --- | --- | --- |"
    )
    print("\n".join(_rows(evaluation["parts"], sum(evaluation["parts"].values()))))
    print(f"\n{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
