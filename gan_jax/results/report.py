"""Sweep outputs: `results.csv` (one row per run) and `report.md` with comparison plots.

Aggregates are over seeds within a variant (a grid point): mean, standard deviation and the
standard error of the mean (std / sqrt(n), as PacGAN reports), and for modes "8/8 in 5 of 5
seeds".
"""

import json
import math
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import jax  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax import metrics  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.loop.workdir import read_metrics  # noqa: E402
from gan_jax.metrics import (  # noqa: E402
    declared,
    hopping,
    plots,  # noqa: E402
)
from gan_jax.parts import data  # noqa: E402
from gan_jax.results import stats  # noqa: E402

# From the metric declarations (gan_jax/metrics/declared.py): the main table's mode metrics,
# then every other declared metric (images, Dirac-GAN; each evaluator's own table), final values.
METRICS = tuple(m.name for m in declared.MIXTURE)
OTHER_METRICS = tuple(name for name in declared.ALL if name not in METRICS)
# Oscillation measures averaged over the second half of the evals (see `run_row`).
OSCILLATION = (
    "g/update_cosine",
    "d/update_cosine",
    "game/grad_norm",
    "d/loss_period",
    "d/loss_amplitude",
    "g/loss_amplitude",
)
BEST = {m.name: max if m.higher_is_better else min for m in declared.ALL.values()}
LABELS = {m.name: m.label for m in declared.ALL.values()}


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def run_row(run, run_dir: str, swept: list[str]) -> dict:
    """One results.csv row: swept values, seed, final and best metrics, divergence, wall time."""
    rows = read_metrics(os.path.join(run_dir, "metrics.jsonl"))
    final = rows[-1]
    row = {"run": run.name, "variant": run.variant}
    for field in swept:
        value = run.assignments[field]
        row[field] = "x".join(map(str, value)) if isinstance(value, tuple | list) else value
    row["seed"] = run.config.seed
    row["steps"] = final["step"]
    for metric in METRICS:
        row[f"final_{metric}"] = final.get(metric)
        values = _finite(r.get(metric) for r in rows[1:])
        row[f"best_{metric}"] = BEST[metric](values) if values else None
    for metric in OTHER_METRICS:
        if metric in final:
            row[f"final_{metric}"] = final[metric]
    # Variants of G evaluated beside the raw G: the EMA of its weights ("ema/"), samplers over
    # G and D ("drs/", "mh/", with their diagnostics): every "<prefix>/<declared metric>".
    for key in final:
        prefix, _, metric = key.rpartition("/")
        if prefix and metric in declared.ALL:
            row[f"final_{key}"] = final[key]
    # Steadiness: how much a metric still moves over the second half of training (std over
    # those evals); a GAN that hops between modes scores high even when its final eval is good.
    late = rows[len(rows) // 2 :]
    for metric in ("modes_covered", "high_quality_pct"):
        values = _finite(r.get(metric) for r in late)
        row[f"late_std_{metric}"] = float(np.std(values)) if values else None
    # Rotation and loss swing, logged per eval window; a late mean, like the unsteadiness.
    for metric in OSCILLATION:
        values = _finite(r.get(metric) for r in late)
        row[f"late_{metric.replace('/', '_')}"] = float(np.mean(values)) if values else None
    speeds = _finite(r.get("steps_per_sec") for r in rows)
    row["steps_per_sec"] = float(np.mean(speeds)) if speeds else None
    histograms = [r["mode_histogram"] for r in rows[1:] if r.get("mode_histogram")]
    if histograms:
        row["mode_hops"] = hopping.count_hops(hopping.dominant_modes(histograms))
        row["occupancy_shift"] = hopping.mean_occupancy_shift(histograms)
    else:  # no modes known (e.g. an unstacked image set)
        row["mode_hops"] = row["occupancy_shift"] = None
    row["diverged"] = final.get("diverged_at", -1) >= 0
    row["diverged_at"] = final.get("diverged_at", -1)
    wall = sum(
        (b["step"] - a["step"]) / b["steps_per_sec"]
        for a, b in zip(rows, rows[1:], strict=False)
        if b.get("steps_per_sec")
    )
    row["wall_time_s"] = round(wall, 2)
    return row


def variant_prefixes(rows: list[dict]) -> list[str]:
    """The prefixes of the variants of G in results rows ("ema", "drs", ...; `run_row`), in
    order of appearance."""
    return list(
        dict.fromkeys(
            column.removeprefix("final_").rpartition("/")[0]
            for row in rows
            for column in row
            if column.startswith("final_") and "/" in column
        )
    )


def _mean_std_sem(values):
    values = _finite(values)
    if not values:
        return float("nan"), float("nan"), float("nan"), 0
    array = np.asarray(values, float)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return float(array.mean()), std, std / math.sqrt(len(array)), len(array)


# Metrics where lower is better: a lower value counts as the improvement.
LOWER_IS_BETTER = frozenset(
    {m.name for m in declared.ALL.values() if not m.higher_is_better}
    | {"mode_hops", "occupancy_shift"}
)
# Fields under data.* / eval.* that change no metric of the raw G: where a data set is stored,
# how many samples the plots show, which samplers are evaluated beside it (their metrics are
# their own, under "<sampler>/").
PROTOCOL_IGNORED = frozenset(
    {
        "data.tfds_dir",
        "eval.plot_samples",
        "eval.samplers",
        "eval.sampler_candidates",
        "eval.drs_gamma_rule",
        "eval.drs_gamma_quantile",
        "eval.sampler_logit_scale",
        "eval.samplers_from_step",
        "eval.sampler_calibration",
        "eval.sampler_ratio",
        "eval.ratio_classifier_steps",
    }
)


def protocol(flat_config: dict) -> dict:
    """What a run's metrics measure, from its flattened config: the data set's and evaluation's
    fields (`data.*`, `eval.*`). Runs with different protocols are never compared."""
    return {
        k: v
        for k, v in flat_config.items()
        if k.startswith(("data.", "eval.")) and k not in PROTOCOL_IGNORED
    }


def aggregate(rows: list[dict], num_modes: dict[str, int]) -> list[dict]:
    """One dict per variant: means, stds and standard errors over its seeds, and for the final
    `METRICS` the mean's 95% stratified bootstrap CI (`<metric>_ci`, `gan_jax.results.stats`)."""
    variants: dict[str, list[dict]] = {}
    for row in rows:
        variants.setdefault(row["variant"], []).append(row)
    table = []
    for variant, group in variants.items():
        entry = {"variant": variant, "seeds": len(group)}
        for metric in METRICS + OTHER_METRICS:
            entry[metric] = _mean_std_sem([r.get(f"final_{metric}") for r in group])
        for metric in METRICS:
            values = _finite(r.get(f"final_{metric}") for r in group)
            entry[f"{metric}_ci"] = stats.mean_ci(values) if values else None
        for prefix in variant_prefixes(rows):
            for metric in METRICS + OTHER_METRICS:
                column = f"final_{prefix}/{metric}"
                entry[f"{prefix}/{metric}"] = _mean_std_sem([r.get(column) for r in group])
        for metric in ("modes_covered", "high_quality_pct"):
            entry[f"late_std_{metric}"] = _mean_std_sem([r[f"late_std_{metric}"] for r in group])
        entry["mode_hops"] = _mean_std_sem([r["mode_hops"] for r in group])
        for metric in OSCILLATION:
            column = f"late_{metric.replace('/', '_')}"
            entry[column] = _mean_std_sem([r[column] for r in group])
        entry["steps_per_sec"] = _mean_std_sem([r["steps_per_sec"] for r in group])
        entry["occupancy_shift"] = _mean_std_sem([r["occupancy_shift"] for r in group])
        total = num_modes[variant]
        entry["all_modes"] = sum(r["final_modes_covered"] == total for r in group)
        entry["num_modes"] = total
        entry["diverged"] = sum(r["diverged"] for r in group)
        entry["wall_time_s"] = float(np.mean([r["wall_time_s"] for r in group]))
        table.append(entry)
    # Ranked: largest share of modes covered (comparable across data sets), then most
    # high-quality samples, then lowest KL.
    return sorted(
        table,
        key=lambda e: (
            -e["modes_covered"][0] / max(e["num_modes"], 1),
            -e["high_quality_pct"][0],
            e["reverse_kl"][0],
        ),
    )


def _fmt(summary, digits=2):
    mean, std, sem, n = summary
    if n == 0:
        return "n/a"
    return f"{mean:.{digits}f} ± {sem:.{digits}f} (std {std:.{digits}f})"


def _fmt_ci(interval, digits=2, sign=""):
    """ "[low, high]" of a `stats.Interval` ("n/a" for None)."""
    if interval is None:
        return "n/a"
    return f"[{interval.low:{sign}.{digits}f}, {interval.high:{sign}.{digits}f}]"


def _fmt_p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def versus_cells(versus, digits=2) -> list[str]:
    """Difference [CI], probability of improvement [CI] and p-value: three table cells."""
    d, i = versus.difference, versus.improvement
    return [
        f"{d.estimate:+.{digits}f} {_fmt_ci(d, digits, '+')}",
        f"{i.estimate:.2f} {_fmt_ci(i)}",
        _fmt_p(versus.p_value),
    ]


def baseline_table(rows: list[dict], table: list[dict], baseline: str, protocols: dict) -> list:
    """report.md lines comparing every variant's final `METRICS` with the `baseline` variant's:
    difference of means, probability of improvement (both with 95% bootstrap CIs; Agarwal et
    al. 2021) and the two-sided Mann-Whitney U p-value. A variant evaluated on another data
    set or protocol (`protocols[variant]`) than the baseline is not compared."""
    from gan_jax.results import stats

    def values(variant, metric):
        return _finite(r.get(f"final_{metric}") for r in rows if r["variant"] == variant)

    header = " | ".join(
        f"{LABELS[m]}: {c}" for m in METRICS for c in ("Δ [95% CI]", "P(better)", "p")
    )
    lines = [
        "",
        f"## Against the baseline: {baseline}",
        "",
        "Per metric: the difference of means (variant - baseline) with its 95% stratified "
        "bootstrap CI; *P(better)*: the probability that a seed of the variant beats a seed of "
        "the baseline (ties count 1/2; lower is better for reverse KL) with its 95% CI "
        f"(Agarwal et al. 2021, rliable); *p*: {stats.TEST_NAME}. A CI of the difference that "
        "excludes 0, or of P(better) that excludes 0.5, is a difference the seeds support.",
        "",
        f"| rank | variant | seeds | {header} |",
        "| --- | --- | --- |" + " --- |" * 3 * len(METRICS),
    ]
    for rank, e in enumerate(table, 1):
        if e["variant"] == baseline:
            continue
        cells = []
        for metric in METRICS:
            x, y = values(e["variant"], metric), values(baseline, metric)
            if protocols[e["variant"]] != protocols[baseline]:
                cells += ["other data / eval", "", ""]
            elif not x or not y:
                cells += ["n/a"] * 3
            else:
                versus = stats.versus(x, y, higher_is_better=metric not in LOWER_IS_BETTER)
                cells += versus_cells(versus, 3 if metric == "reverse_kl" else 2)
        lines.append(f"| {rank} | {e['variant']} | {e['seeds']} | " + " | ".join(cells) + " |")
    return lines


def write_sweep_report(config, workdir: str) -> bool:
    """Writes results.csv, report.md and plots/ for the finished runs of the sweep in `config`
    (on the primary process); False when no run has finished yet."""
    from gan_jax.loop import sharding, sweep

    done = sweep.finished_runs(config, workdir)
    if done and sharding.is_primary():
        write_results(workdir, done, sweep.swept_fields(config))
    return bool(done)


def write_results(workdir: str, runs, swept: list[str]) -> None:
    """Writes results.csv, report.md and plots/ for the finished `runs` of a sweep."""
    rows = [run_row(run, wd.run_dir(workdir, run.name), swept) for run in runs]
    wd.write_csv(os.path.join(workdir, "results.csv"), rows)

    num_modes = {}
    for run in runs:
        last = read_metrics(os.path.join(wd.run_dir(workdir, run.name), "metrics.jsonl"))[-1]
        num_modes[run.variant] = len(last.get("mode_histogram", []))
    table = aggregate(rows, num_modes)
    plots_dir = os.path.join(workdir, "plots")
    os.makedirs(plots_dir, exist_ok=True)
    curves = _plot_curves(workdir, runs, plots_dir)
    versus = _plot_versus(rows, swept, plots_dir)
    samples = _plot_final_samples(workdir, runs, plots_dir)

    lines = [
        f"# Sweep report: {os.path.basename(os.path.abspath(workdir))}",
        "",
        f"{len(rows)} runs, {len(table)} variants, ranked by the share of modes covered, "
        "then HQ %, then reverse KL. Final metrics at the last step, mean ± standard error "
        "over seeds (std in brackets). *Unsteadiness*: the std of modes covered / HQ % over "
        "the second half of the evals, mean over seeds (0 = the curve has settled). "
        "*Mode hops*: switches of the dominant mode (one holding >= half the high-quality "
        "samples) between evals; *shift*: "
        "mean total variation between consecutive mode occupancies (0 = G holds its modes, "
        "1 = its mass jumps every eval). *95% CI*: stratified bootstrap confidence intervals "
        "of the three means over seeds (Agarwal et al. 2021, rliable). Per-run numbers: "
        "`results.csv`.",
        "",
        "| rank | variant | seeds | modes covered | all modes in | HQ % | reverse KL | "
        "95% CI (modes / HQ % / KL) | unsteadiness (modes / HQ %) | mode hops | shift | "
        "diverged | wall s / run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rank, e in enumerate(table, 1):
        lines.append(
            f"| {rank} | {e['variant']} | {e['seeds']} | {_fmt(e['modes_covered'])} | "
            f"{e['all_modes']} of {e['seeds']} seeds ({e['num_modes']}/{e['num_modes']}) | "
            f"{_fmt(e['high_quality_pct'], 1)} | {_fmt(e['reverse_kl'], 3)} | "
            f"{_fmt_ci(e['modes_covered_ci'])} / {_fmt_ci(e['high_quality_pct_ci'], 1)} / "
            f"{_fmt_ci(e['reverse_kl_ci'], 3)} | "
            f"{e['late_std_modes_covered'][0]:.2f} / {e['late_std_high_quality_pct'][0]:.1f} | "
            f"{e['mode_hops'][0]:.1f} | {e['occupancy_shift'][0]:.2f} | "
            f"{e['diverged']} | {e['wall_time_s']:.0f} |"
        )
    baseline = (wd.stored_config_dict(workdir) or {}).get("sweep", {}).get("baseline")
    if baseline in {e["variant"] for e in table}:
        protocols = {r.variant: protocol(wd.flatten(wd.config_to_dict(r.config))) for r in runs}
        lines += baseline_table(rows, table, baseline, protocols)
    lines += _evaluator_tables(table, _evaluators(runs))
    for prefix in variant_prefixes(rows):
        lines += _variant_table(table, prefix)
    lines += _oscillation_table(table)
    diverged = [r for r in rows if r["diverged"]]
    if diverged:
        lines += ["", "Diverged runs (frozen at their last finite state):", ""]
        lines += [f"- {r['run']}: diverged at step {r['diverged_at']}" for r in diverged]
    lines += ["", "## Metrics over training (mean over seeds, band: min to max)", ""]
    lines += [f"![{name}](plots/{name})" for name in curves]
    if versus:
        lines += ["", "## Final metrics vs swept value (mean ± standard error)", ""]
        lines += [f"![{name}](plots/{name})" for name in versus]
    if samples:
        lines += [
            "",
            "## Final samples (first seed of each variant)",
            "",
            f"![samples](plots/{samples})",
        ]
    wd.write_text(os.path.join(workdir, "report.md"), "\n".join(lines) + "\n")


def _evaluator_tables(table: list[dict], evaluators) -> list[str]:
    """One section per evaluator of the sweep's data sets (`gan_jax.metrics.EVALUATORS`): its
    declared metrics outside the main table, a column for each that some variant logged, with
    their declared digits, in the ranking of the main table."""
    lines, shown = [], set(METRICS)
    for evaluator in evaluators:
        columns = [
            m for m in evaluator.metrics if m.name not in shown and any(e[m.name][3] for e in table)
        ]
        if not columns:
            continue
        shown |= {m.name for m in columns}
        directions = "; ".join(
            f"{m.label}: {'higher' if m.higher_is_better else 'lower'} is better" for m in columns
        )
        lines += [
            "",
            f"## {evaluator.title}",
            "",
            f"{evaluator.about} ({directions}.)",
            "",
            "| rank | variant | " + " | ".join(m.label for m in columns) + " |",
            "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
        ]
        for rank, e in enumerate(table, 1):
            cells = [_fmt(e[m.name], m.digits) for m in columns]
            lines.append(f"| {rank} | {e['variant']} | " + " | ".join(cells) + " |")
    return lines


# How the report introduces a variant of G (`variant_prefixes`); others get `_VARIANT_DEFAULT`.
_VARIANT_SECTIONS = {
    "ema": (
        "EMA of G (Yazici et al. 2019)",
        "Final metrics of the exponential moving average of G's weights, evaluated on the same "
        "z as the raw G",
    ),
}
_VARIANT_DEFAULT = (
    'Samples under "{prefix}/"',
    'Final metrics of the samples logged under "{prefix}/" (a sampler over the trained G and D, '
    "gan_jax/step/samplers.py, with its diagnostics)",
)


def _variant_table(table: list[dict], prefix: str) -> list[str]:
    """A variant of G's final metrics beside the raw G's (variants that logged it)."""
    shown = [m for m in METRICS + OTHER_METRICS if any(e[f"{prefix}/{m}"][3] for e in table)]
    if not shown:
        return []
    title, about = (
        text.format(prefix=prefix) for text in _VARIANT_SECTIONS.get(prefix, _VARIANT_DEFAULT)
    )
    lines = [
        "",
        f"## {title}",
        "",
        f"{about}; raw G in brackets. Mean ± standard error over seeds.",
        "",
        "| rank | variant | " + " | ".join(LABELS.get(m, m) for m in shown) + " |",
        "| --- | --- | " + " | ".join("---" for _ in shown) + " |",
    ]
    for rank, e in enumerate(table, 1):
        cells = [
            f"{_fmt_short(e[f'{prefix}/{m}'])}{_raw(e[m])}" if e[f"{prefix}/{m}"][3] else "n/a"
            for m in shown
        ]
        lines.append(f"| {rank} | {e['variant']} | " + " | ".join(cells) + " |")
    return lines


def _raw(stats) -> str:
    """The raw G's value in brackets; nothing for a diagnostic only a variant logs."""
    return f" ({_fmt_short(stats)})" if stats[3] else ""


def _fmt_short(stats, digits=2):
    mean, _, sem, n = stats
    return "n/a" if n == 0 else f"{mean:.{digits}f} ± {sem:.{digits}f}"


def _oscillation_table(table: list[dict]) -> list[str]:
    """The rotation / swing table, in the ranking of the main table."""

    def mean(stats, digits):
        return "n/a" if stats[3] == 0 else f"{stats[0]:.{digits}f}"

    lines = [
        "",
        "## Oscillation",
        "",
        "Means over seeds of per-run means over the second half of the evals. *cos*: the "
        "cosine between a player's successive parameter updates (1 = steady drift, ~0 = "
        "turning, < 0 = swinging back and forth); *|v|*: the norm of the joint gradient field "
        "(0 at a stationary point); *D loss swing*: the dominant period (steps) and amplitude "
        "of D's per-step loss within each eval window; *steps/s*: training throughput of the "
        "run's compiled group (all its seeds at once).",
        "",
        "| rank | variant | mode hops | G cos | D cos | abs v | D loss swing (period / "
        "amplitude) | G loss amplitude | steps/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rank, e in enumerate(table, 1):
        lines.append(
            f"| {rank} | {e['variant']} | {e['mode_hops'][0]:.1f} | "
            f"{mean(e['late_g_update_cosine'], 3)} | {mean(e['late_d_update_cosine'], 3)} | "
            f"{mean(e['late_game_grad_norm'], 2)} | {mean(e['late_d_loss_period'], 0)} / "
            f"{mean(e['late_d_loss_amplitude'], 3)} | {mean(e['late_g_loss_amplitude'], 3)} | "
            f"{mean(e['steps_per_sec'], 0)} |"
        )
    return lines


def _save(fig, plots_dir: str, name: str) -> str:
    """Writes `fig` as plots/<name> and frees it; returns the name for report.md."""
    fig.tight_layout()
    fig.savefig(os.path.join(plots_dir, name), dpi=100)
    plt.close(fig)
    return name


def _plot_curves(workdir, runs, plots_dir) -> list[str]:
    by_variant: dict[str, list[list[dict]]] = {}
    for run in runs:
        by_variant.setdefault(run.variant, []).append(
            read_metrics(os.path.join(wd.run_dir(workdir, run.name), "metrics.jsonl"))
        )
    names = []
    logged = {k for seeds in by_variant.values() for rows in seeds for r in rows for k in r}
    for metric in [m for m in METRICS + OTHER_METRICS if m in logged]:
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        for variant, seeds in by_variant.items():
            steps = [r["step"] for r in seeds[0]]
            values = np.array(
                [[np.nan if r.get(metric) is None else r[metric] for r in rows] for rows in seeds]
            )
            with warnings.catch_warnings():  # an eval where every seed is NaN stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, low, high = (f(values, axis=0) for f in (np.nanmean, np.nanmin, np.nanmax))
            line = ax.plot(steps, mean, label=variant)[0]
            ax.fill_between(steps, low, high, alpha=0.2, color=line.get_color())
        ax.set_xlabel("step")
        ax.set_ylabel(LABELS[metric])
        ax.legend(fontsize=7)
        names.append(_save(fig, plots_dir, f"curve_{metric}.png"))
    return names


def _plot_versus(rows, swept, plots_dir) -> list[str]:
    names = []
    for field in swept:
        values = {r[field] for r in rows}
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            continue
        values = sorted(values)
        shown = [
            m for m in METRICS + OTHER_METRICS if any(r.get(f"final_{m}") is not None for r in rows)
        ]
        fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.2), squeeze=False)
        axes = axes[0]
        others = [f for f in swept if f != field]
        lines: dict[tuple, list[dict]] = {}
        for r in rows:
            lines.setdefault(tuple(r[f] for f in others), []).append(r)
        for ax, metric in zip(axes, shown, strict=True):
            for key, group in lines.items():
                xs, means, sems = [], [], []
                for v in values:
                    mean, _, sem, n = _mean_std_sem(
                        [r.get(f"final_{metric}") for r in group if r[field] == v]
                    )
                    if n:
                        xs.append(v)
                        means.append(mean)
                        sems.append(sem)
                label = ",".join(f"{f}={k}" for f, k in zip(others, key, strict=True)) or None
                ax.errorbar(xs, means, yerr=sems, marker="o", capsize=3, label=label)
            ax.set_xlabel(field)
            ax.set_ylabel(LABELS[metric])
            if others:
                ax.legend(fontsize=7)
        names.append(_save(fig, plots_dir, f"final_vs_{field.replace('.', '_')}.png"))
    return names


def _evaluators(runs) -> list:
    """The evaluators of the runs' data sets, in the order the runs name them."""
    found = {}
    for config in {
        json.dumps(r.config.data.to_dict(), sort_keys=True): r.config for r in runs
    }.values():
        evaluator = metrics.evaluator_for(data.from_config(config.data))
        found.setdefault(evaluator.kind, evaluator)
    return list(found.values())


def _last_saved_samples(workdir, run):
    """The newest readable saved samples of a run; None if it kept none."""
    saved = wd.read_samples(os.path.join(wd.run_dir(workdir, run.name), "samples"))
    return saved[max(saved)] if saved else None


def _plot_final_samples(workdir, runs, plots_dir) -> str | None:
    """The last saved samples of each variant's first seed, one panel each, drawn by the data
    set's evaluator; image sweeps show real images first. None when no run kept samples
    (eval.plot_samples=0)."""
    first = {}
    for run in runs:
        first.setdefault(run.variant, run)
    points_of = {variant: _last_saved_samples(workdir, run) for variant, run in first.items()}
    if all(points is None for points in points_of.values()):
        return None
    dataset = data.from_config(runs[0].config.data)  # as the runs trained on it
    show_real = metrics.evaluator_for(dataset).images
    count = len(first) + show_real
    cols = min(count, 4)
    rows_ = -(-count // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(3 * cols, 3 * rows_), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    panels = iter(axes.flat)
    if show_real:
        ax = next(panels)
        plots.show_grid(ax, np.asarray(dataset.sample(jax.random.PRNGKey(0), 36)), 6, "real")
        ax.axis("on")
    for ax, (variant, run) in zip(panels, first.items(), strict=False):
        points = points_of[variant]
        if points is None:  # every sample file unreadable: leave the panel empty
            continue
        ax.axis("on")
        run_data = data.from_config(run.config.data)
        title = f"{variant}\n{run.name.split(',')[-1]}"
        metrics.evaluator_for(run_data).plot_panel(ax, points, run_data, title)
    return _save(fig, plots_dir, "final_samples.png")
