"""The closing lines of a run or a sweep, logged once it has trained (`gan_jax.commands`), so a
scheduler's log ends with how it went rather than with its last eval line.

A run: how it ended (finished, diverged, stopped) and its final headline metrics, its
evaluator's declared metrics (`gan_jax.metrics.declared`) with their EMA variants. A sweep: how
many runs finished or diverged, each variant's final metrics as mean [min, max] over its seeds,
and its best and worst variant by the first declared metric (the next ones break ties). Both
end with where to look next: report.md, the samples figure, `tensorboard --logdir ...`.
"""

import math
import os
import shlex

import numpy as np

from gan_jax import metrics
from gan_jax.loop import progress, sweep
from gan_jax.loop import workdir as wd
from gan_jax.parts import data

SAMPLES_FIGURE = os.path.join("samples", "samples_over_training.png")


def declared_metrics(config) -> tuple:
    """The metrics declared by the evaluator of `config`'s data set."""
    return metrics.evaluator_for(data.from_config(config.data)).metrics


def final_row(run_workdir: str) -> dict:
    """The last row a run logged ({} before its first eval)."""
    rows = wd.read_metrics(os.path.join(run_workdir, wd.METRICS))
    return rows[-1] if rows else {}


def next_line(workdir: str, files: list[str]) -> str:
    """Where to look next: those of `files` that exist, and the TensorBoard command."""
    places = [path for path in files if os.path.exists(path)]
    places.append(f"tensorboard --logdir {shlex.quote(workdir)}")
    return "next: " + ", ".join(places)


def run_summary(config, workdir: str, outcome) -> list[str]:
    """A single run's closing lines (`outcome`: what `gan_jax.loop.run.train` returned)."""
    final = final_row(workdir)
    step = int(outcome.state.step) if outcome.state is not None else final.get("step", 0)
    if not outcome.finished:
        ended = f"stopped at step {step}/{config.num_steps}; rerun the same command to resume"
    elif outcome.diverged:
        (diverged_step,) = outcome.diverged.values()
        ended = f"finished at step {step}/{config.num_steps}, diverged at step {diverged_step}"
        ended += " (frozen there)"
    else:
        ended = f"finished at step {step}/{config.num_steps}"
    lines = [f"run {ended}"]
    if final:
        shown = progress.metrics_text([final], declared_metrics(config))
        lines[0] += f" | final eval (step {final['step']}): {shown}"
    lines.append(next_line(workdir, [os.path.join(workdir, SAMPLES_FIGURE)]))
    return lines


def rank_key(rows: list[dict], declared: tuple) -> tuple:
    """Sorts variants best first: by their mean of each declared metric in declaration order,
    each in its better direction; a metric without a finite value ranks last."""
    key = []
    for metric in declared:
        finite = [v for v in (row.get(metric.name) for row in rows) if _is_finite(v)]
        if not finite:
            key.append(math.inf)
            continue
        mean = float(np.mean(finite))
        key.append(-mean if metric.higher_is_better else mean)
    return tuple(key)


def _is_finite(value) -> bool:
    return value is not None and math.isfinite(value)


def sweep_summary(config, workdir: str, outcome) -> list[str]:
    """A sweep's closing lines (`outcome`: what `gan_jax.loop.sweep.run_sweep` returned)."""
    runs = sweep.expand(config)
    done = [run for run in runs if sweep.is_finished(workdir, run)]
    variants: dict[str, list] = {}
    for run in done:
        variants.setdefault(run.variant, []).append(run)
    ended = "finished" if outcome.finished else "stopped; rerun the same command to resume"
    lines = [
        f"sweep {ended}: {len(done)} of {len(runs)} runs finished in {len(variants)} "
        f"variant(s), {len(outcome.diverged)} diverged"
    ]
    finals, declared = {}, {}
    for variant, variant_runs in variants.items():
        finals[variant] = [final_row(sweep.run_dir(workdir, run)) for run in variant_runs]
        declared[variant] = declared_metrics(variant_runs[0].config)
        diverged = sum(run.name in outcome.diverged for run in variant_runs)
        seeds = f"{len(variant_runs)} seed(s)" + (f", {diverged} diverged" if diverged else "")
        shown = progress.metrics_text(finals[variant], declared[variant])
        lines.append(f"  {variant} ({seeds}): {shown}")
    # Variants on different kinds of data (`sweep.configs`) are ranked among their own kind.
    by_first_metric: dict[str, list[str]] = {}
    for variant in variants:
        if declared[variant]:
            by_first_metric.setdefault(declared[variant][0].name, []).append(variant)
    best_runs = []
    for name, ranked in by_first_metric.items():
        if len(ranked) < 2:
            best_runs.append(variants[ranked[0]][0])
            continue
        ranked = sorted(ranked, key=lambda v: rank_key(finals[v], declared[v]))
        first = declared[ranked[0]][0]
        best, worst = ranked[0], ranked[-1]
        direction = "higher" if first.higher_is_better else "lower"
        if rank_key(finals[best], declared[best]) == rank_key(finals[worst], declared[worst]):
            lines.append(f"no best variant: all {len(ranked)} tie on every declared metric")
        else:
            lines.append(
                f"best by {name} ({direction} is better): {best} "
                f"({_mean_text(finals[best], name, first.digits)}); "
                f"worst: {worst} ({_mean_text(finals[worst], name, first.digits)})"
            )
        best_runs.append(variants[best][0])
    files = [os.path.join(workdir, "report.md")]
    files += [os.path.join(sweep.run_dir(workdir, run), SAMPLES_FIGURE) for run in best_runs]
    lines.append(next_line(workdir, files))
    return lines


def _mean_text(rows: list[dict], name: str, digits: int) -> str:
    return progress.spread_text([row.get(name) for row in rows], digits)


def closing_lines(config, workdir: str, outcome) -> list[str]:
    """The closing lines of the run or sweep that `config` describes, trained in `workdir`."""
    summarize = sweep_summary if sweep.is_sweep(config) else run_summary
    return summarize(config, workdir, outcome)
