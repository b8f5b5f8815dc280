"""Where one train step's time goes: per-op times from a `jax.profiler` trace, by part.

  python benchmarks/profile_step.py                      # k = 0 and 5, 1 and 8 runs (README)
  python benchmarks/profile_step.py --ks 5 --runs 1 --steps 10   # one case, quick

How: the step is built from `gan_jax.step.train` as training builds it, with `jax.named_scope`s put
around its parts by patching the factories it calls (`make_d_update`, `make_unroll`, the data
set's `sample`, the optimizers' `update`, the objective's `g_loss`, `freeze_if_diverged`, the
update-cosine diagnostics); nothing in gan_jax changes. A chunk of steps is compiled, run once
under `jax.profiler.trace(create_perfetto_trace=True)`, and every XLA:CPU thunk event in the
trace (named by its HLO instruction) gets its self time (minus nested events) and is attributed
to a part through the instruction's `op_name` metadata in the compiled HLO. XLA:CPU runs
independent thunks on its 2 worker threads at once, so op time can exceed wall time; the wall
time per step is measured separately, without the profiler, in the same process.
"""

import argparse
import collections
import contextlib
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

import jax
import optax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from configs import unrolled  # noqa: E402
from gan_jax.loop.run import init_group_state  # noqa: E402
from gan_jax.loop.sharding import runs_mesh  # noqa: E402
from gan_jax.parts.data import mixtures  # noqa: E402
from gan_jax.step import game, train  # noqa: E402
from gan_jax.step.experiment import dynamic_params, make_experiment  # noqa: E402

# Parts in the order the table lists them.
PARTS = (
    "real batch (ring sample)",
    "latents z (threefry normal)",
    "keys (split, fold_in)",
    "G forward",
    "G backward",
    "G loss through D (fwd + bwd)",
    "D phase: D loss fwd + grad",
    "D phase: Adam",
    "unroll: D loss fwd + grad",
    "unroll: Adam",
    "unroll: 2nd-order backward",
    "G Adam",
    "diagnostics (grad norms, update cosines)",
    "divergence check (isfinite, select)",
    "scan bookkeeping (loop, copies, metric stacking)",
)
_RNG = re.compile(r"jit\((_threefry_split|_threefry_fold_in|_randint|_uniform|_split|fold_in)\)")


def _scope(fn, name):
    """`fn` with its ops under `jax.named_scope(name)`."""

    def scoped(*args, **kwargs):
        with jax.named_scope(name):
            return fn(*args, **kwargs)

    return scoped


def _scoped_factory(factory, name):
    return lambda *args, **kwargs: _scope(factory(*args, **kwargs), name)


@contextlib.contextmanager
def patched(patches):
    """Sets (owner, attribute, value) while the block runs; skips attributes `owner` lacks."""
    patches = [p for p in patches if hasattr(p[0], p[1])]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, value in patches:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


@contextlib.contextmanager
def scoped_parts():
    """Puts named scopes around the step's parts while the block traces (patches, undone)."""
    patches = [
        (train, "make_d_update", _scoped_factory(train.make_d_update, "d_update")),
        (train, "make_unroll", _scoped_factory(train.make_unroll, "unroll")),
        (train, "freeze_if_diverged", _scope(train.freeze_if_diverged, "freeze")),
        (train, "_flat_params", _scope(train._flat_params, "diagnostics")),
        (game, "update_cosine", _scope(game.update_cosine, "diagnostics")),
        (mixtures.Mixture2D, "sample", _scope(mixtures.Mixture2D.sample, "data")),
    ]
    with patched(patches):
        yield


def scoped_experiment(exp):
    """`exp` with named scopes on its optimizers' updates and the objective's G loss."""

    def opt(tx, name):
        return optax.GradientTransformation(tx.init, _scope(tx.update, name))

    return exp._replace(
        g_optimizer=opt(exp.g_optimizer, "g_opt"),
        d_optimizer=opt(exp.d_optimizer, "d_opt"),
        objective=exp.objective._replace(g_loss=_scope(exp.objective.g_loss, "g_loss")),
    )


def _bare(segment: str) -> str:
    """'transpose(jvp(unroll))' -> 'unroll'."""
    return re.sub(r"^(\w+\()+", "", segment).rstrip(")")


def part_of(op_name: str) -> str:
    """The part of the step an HLO op belongs to, from its `op_name` metadata (a name stack)."""
    segments = op_name.split("/")
    bare = [_bare(s) for s in segments]
    scopes = set(bare)
    if "freeze" in scopes:
        return "divergence check (isfinite, select)"
    if "diagnostics" in scopes or "norm" in scopes:
        return "diagnostics (grad norms, update cosines)"
    if "data" in scopes:
        return "real batch (ring sample)"
    if "unroll" in scopes:
        if segments[bare.index("unroll")].startswith("transpose("):
            return "unroll: 2nd-order backward"
        return "unroll: Adam" if "d_opt" in scopes else "unroll: D loss fwd + grad"
    if "d_update" in scopes:
        return "D phase: Adam" if "d_opt" in scopes else "D phase: D loss fwd + grad"
    if "g_opt" in scopes:
        return "G Adam"
    if "_normal" in scopes:
        return "latents z (threefry normal)"
    if _RNG.search(op_name):
        return "keys (split, fold_in)"
    if "MLPGenerator" in scopes:
        index = bare.index("MLPGenerator")
        return "G backward" if segments[index].startswith("transpose(") else "G forward"
    if "MLPDiscriminator" in scopes or "g_loss" in scopes:
        return "G loss through D (fwd + bwd)"
    return "scan bookkeeping (loop, copies, metric stacking)"


def instruction_op_names(hlo_text: str) -> dict[str, str]:
    """HLO instruction name -> its `op_name` metadata. An instruction without one (copies of
    loop carries, layout changes) gets its first operand's, so it counts with its producer."""
    own, operands = {}, {}
    for line in hlo_text.splitlines():
        match = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = \S+ [\w\-]+\((.*)", line)
        if match:
            op = re.search(r'op_name="([^"]*)"', line)
            own[match.group(1)] = op.group(1) if op else ""
            operands[match.group(1)] = re.findall(r"%([\w.\-]+)", match.group(2).split(")")[0])

    def resolve(name, depth=0):
        if own.get(name) or depth > 20:
            return own.get(name, "")
        for operand in operands.get(name, []):
            found = resolve(operand, depth + 1)
            if found:
                return found
        return ""

    return {name: resolve(name) for name in own}


def self_times(events: list[dict]) -> dict[str, float]:
    """Summed self time (µs: duration minus nested events on the same thread) per event name,
    from Chrome-trace complete ('X') events."""
    totals = collections.Counter()
    by_thread = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X" and "dur" in event:
            by_thread[(event.get("pid"), event.get("tid"))].append(event)
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, child time]
        for event in thread_events:
            while stack and event["ts"] >= stack[-1][0]:
                end, name, child, start = stack.pop()
                totals[name] += (end - start) - child
            if stack:
                stack[-1][2] += event["dur"]
            stack.append([event["ts"] + event["dur"], event["name"], 0.0, event["ts"]])
        while stack:
            end, name, child, start = stack.pop()
            totals[name] += (end - start) - child
    return dict(totals)


def breakdown(op_names: dict[str, str], times: dict[str, float]) -> dict[str, float]:
    """Self time per part (µs), over the trace's events that are HLO instructions."""
    parts = collections.Counter()
    for name, micros in times.items():
        if name in op_names:
            parts[part_of(op_names[name])] += micros
    return dict(parts)


def _trace_events(fn, *args) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="gan_jax_profile_") as logdir:
        with jax.profiler.trace(logdir, create_perfetto_trace=True):
            jax.block_until_ready(fn(*args))
        (path,) = glob.glob(os.path.join(logdir, "**", "perfetto_trace.json.gz"), recursive=True)
        with gzip.open(path) as f:
            trace = json.load(f)
    return trace["traceEvents"] if isinstance(trace, dict) else trace


def build_chunk(k: int, num_runs: int, steps: int, scoped: bool = True):
    """(compiled chunk, its argument) for the ring config with unroll k and `num_runs` vmapped
    runs (1: the chunk alone, not vmapped), with the parts' scopes when `scoped`."""
    config = unrolled.get_config()
    config.unroll.steps = k
    exp = make_experiment(config)
    if scoped:
        exp = scoped_experiment(exp)
    with scoped_parts() if scoped else contextlib.nullcontext():
        if num_runs == 1:
            arg = train.init_state(exp, jax.random.PRNGKey(0), dynamic_params(config))
            fn = jax.jit(train.make_train_chunk(exp, steps))
        else:
            configs = []
            for seed in range(num_runs):
                c = unrolled.get_config()
                c.unroll.steps, c.seed = k, seed
                configs.append(c)
            arg = init_group_state(configs, runs_mesh(num_runs))
            fn = jax.jit(jax.vmap(train.make_train_chunk(exp, steps)))
        compiled = fn.lower(arg).compile()
    return compiled, arg


def wall_seconds(compiled, arg, repeats: int) -> float:
    """Median wall seconds of one call (after a warm-up)."""
    jax.block_until_ready(compiled(arg))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(arg))
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def profile(k: int, num_runs: int, steps: int, repeats: int) -> dict:
    """{"wall_ms": ms per step, "unscoped_ms": the same without scopes, "parts": ms per step
    by part, "op_ms": their sum} for one case."""
    compiled, arg = build_chunk(k, num_runs, steps)
    plain, plain_arg = build_chunk(k, num_runs, steps, scoped=False)
    walls, plains = [], []
    for _ in range(repeats):  # interleaved, so load hits both alike
        walls.append(wall_seconds(compiled, arg, 1))
        plains.append(wall_seconds(plain, plain_arg, 1))
    events = _trace_events(compiled, arg)
    parts = breakdown(instruction_op_names(compiled.as_text()), self_times(events))
    per_step = {p: parts.get(p, 0.0) / 1e3 / steps for p in PARTS}
    return {
        "wall_ms": 1e3 * sorted(walls)[repeats // 2] / steps,
        "unscoped_ms": 1e3 * sorted(plains)[repeats // 2] / steps,
        "parts": per_step,
        "op_ms": sum(per_step.values()),
    }


def table(results: dict) -> str:
    """A markdown table: one column per case, ms per step and share of op time per part."""
    cases = list(results)
    head = "| part | " + " | ".join(cases) + " |\n| --- |" + " --- |" * len(cases)
    rows = []
    for part in PARTS:
        cells = [
            f"{r['parts'][part]:.3f} ({r['parts'][part] / r['op_ms']:.0%})"
            for r in results.values()
        ]
        rows.append(f"| {part} | " + " | ".join(cells) + " |")
    rows.append(
        "| **op time, sum** | "
        + " | ".join(f"**{r['op_ms']:.3f}**" for r in results.values())
        + " |"
    )
    rows.append(
        "| wall time per step (scoped / as trained) | "
        + " | ".join(f"{r['wall_ms']:.3f} / {r['unscoped_ms']:.3f}" for r in results.values())
        + " |"
    )
    return "\n".join([head, *rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--steps", type=int, default=50, help="steps per profiled chunk")
    parser.add_argument("--repeats", type=int, default=5, help="wall-time repeats (median)")
    args = parser.parse_args()
    print(f"# step profile: jax {jax.__version__}, {jax.devices()}, {os.cpu_count()} CPUs")
    results = {}
    for runs in args.runs:
        for k in args.ks:
            label = f"k={k}, {runs} run{'s' if runs > 1 else ''} (ms/step, per run-step ÷{runs})"
            results[f"k={k}, {runs} run{'s' if runs > 1 else ''}"] = profile(
                k, runs, args.steps, args.repeats
            )
            print(label, "done", flush=True)
    print("\nms per step (share of op time); 8 runs: ms per vmapped step of all 8 runs\n")
    print(table(results))


if __name__ == "__main__":
    main()
