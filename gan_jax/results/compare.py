"""Put finished sweeps (or single runs) side by side, with seed statistics a reviewer accepts.

  python -m gan_jax.results.compare runs/unroll_ring runs/balance:bal \\
      --baseline=unroll_ring:unroll.steps=0 --workdir=runs/cmp
  python -m gan_jax.results.compare experiments/mode_collapse/results.csv --only=data.name=ring \\
      --baseline=data.name=ring,unroll.steps=0 --workdir=runs/cmp_ring

Each input is a sweep workdir, a single run's workdir or a sweep's results.csv, optionally
`path:label` (default label: the folder's name). With several inputs a variant is named
`label:variant` (a single run's variant is its label). Writes into --workdir: `results.csv`
(every run of every input), `report.md` (per metric and variant: mean ± standard error, the 95%
stratified bootstrap CI, the IQM, and against --baseline the difference, probability of
improvement and Mann-Whitney p-value; `gan_jax.results.stats`) and `plots/`.

Refused, with one line and nothing written: a missing or unfinished input, runs whose data set
or evaluation protocol (`data.*`, `eval.*`) differ, a baseline that names no variant, a malformed
results.csv row (file and line named), a --workdir inside an input (or holding one). Folders in
a sweep's runs/ that hold no run of it are skipped with one warning line. The outputs are built in
a temporary folder beside --workdir and renamed into place: a compare that fails half-way (a full
disk) leaves --workdir as it was. A variant with fewer than `MIN_SEEDS` seeds gets no interval
and no test, and no difference to it is marked supported.
"""

import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence

import numpy as np
from absl import app, flags, logging

from gan_jax.loop import workdir as wd
from gan_jax.results import report, stats
from gan_jax.results.load import RESULTS, Input, ResultsError, load_input, parse_value
from gan_jax.results.report import LABELS, LOWER_IS_BETTER, _finite, _save, protocol

# Metrics compared (results.csv columns): the final evaluation, and the mode hopping count;
# with variants of G in the rows (EMA, samplers: `report.variant_prefixes`), theirs too.
COMPARED = report.METRICS + report.OTHER_METRICS
CANDIDATES = tuple(f"final_{m}" for m in COMPARED) + ("mode_hops",)


def candidates(rows: list[dict]) -> tuple[str, ...]:
    """The columns compared: `CANDIDATES`, then each G variant's ("final_drs/modes_covered")."""
    prefixed = tuple(f"final_{p}/{m}" for p in report.variant_prefixes(rows) for m in COMPARED)
    return CANDIDATES + prefixed


RECORD = "comparison.json"  # marks --workdir as a comparison's: a rerun may replace it
# Fewer seeds than this on a side: no interval, no test, no difference claimed. With 2 seeds a
# percentile bootstrap has 3 distinct means and a rank test cannot go below p = 0.33.
MIN_SEEDS = 3


class CompareError(ResultsError):
    """A comparison that means nothing, or cannot be made; the message is one line."""


def metric_name(column: str) -> str:
    """The metric a column holds, without its G variant's prefix: "final_drs/fd" -> "fd"."""
    return column.removeprefix("final_").rpartition("/")[2]


def label(column: str) -> str:
    name = metric_name(column)
    text = LABELS.get(name, name.replace("_", " "))
    variant = column.removeprefix("final_").rpartition("/")[0]
    return f"{variant}: {text}" if variant else text


def higher_is_better(column: str) -> bool:
    return metric_name(column) not in LOWER_IS_BETTER


def parse_input(arg: str) -> tuple[str, str]:
    """ "path" or "path:label" -> (path, label)."""
    path, sep, name = arg.rpartition(":")
    if not sep or os.path.exists(arg) or not path:
        path, name = arg, ""
    folder = os.path.dirname(path) if path.endswith(".csv") else path  # a sweep's results.csv
    return path, name or os.path.basename(os.path.abspath(folder))


def load_inputs(args: Sequence[str]) -> list[Input]:
    if not args:
        raise CompareError("name one or more finished sweep or run workdirs to compare")
    parsed = [parse_input(arg) for arg in args]
    labels = [name for _, name in parsed]
    if len(set(labels)) < len(labels):
        raise CompareError(f"two inputs share a label ({labels}); name them apart with path:label")
    inputs = [load_input(path, name) for path, name in parsed]
    if len(inputs) > 1:
        bare = [i.path for i in inputs if i.config is None]
        if bare:
            raise CompareError(
                f"{bare[0]} has no config.json beside it, so what its runs were evaluated on "
                "is unknown; compare it alone, or with its sweep's config.json beside it"
            )
    return inputs


def variant_rows(inputs: list[Input]) -> list[dict]:
    """Every run of every input as a results row with `input` and its `variant` as compared
    (prefixed by the input's label when there are several inputs), plus private keys
    `_config` (flattened config) and `_history` (metrics.jsonl rows)."""
    rows = []
    for item in inputs:
        for run in item.runs:
            variant = run.row["variant"]
            if item.kind == "run":
                variant = item.label
            elif len(inputs) > 1:
                variant = f"{item.label}:{variant}"
            row = {"input": item.label, **run.row, "variant": variant}
            rows.append({**row, "_config": run.config, "_history": run.history})
    return rows


def _matches(row: dict, condition: str) -> bool:
    field, _, wanted = condition.partition("=")
    value = row[field] if field in row else row["_config"].get(field)
    if isinstance(value, list | tuple):
        value = "x".join(map(str, value))
    return value == parse_value(wanted) or str(value) == wanted


def select(rows: list[dict], only: Sequence[str]) -> list[dict]:
    """The rows matching every `field=value` condition in `only`."""
    for condition in only:
        if "=" not in condition:
            raise CompareError(f"--only={condition} is invalid: write field=value")
        kept = [row for row in rows if _matches(row, condition)]
        if not kept:
            raise CompareError(f"--only={condition} matches no run")
        rows = kept
    return rows


def check_protocol(rows: list[dict]) -> dict:
    """The data / evaluation fields every run shares, or a `CompareError` naming the first
    field on which runs differ."""
    protocols = [protocol(row["_config"]) for row in rows]
    fields = sorted({k for p in protocols for k in p})
    for field in fields:
        seen: dict = {}
        for row, p in zip(rows, protocols, strict=True):
            seen.setdefault(json.dumps(p.get(field, wd.ADDED_FIELDS.get(field))), row["variant"])
        if len(seen) > 1:
            shown = ", ".join(f"{value} in {variant}" for value, variant in seen.items())
            raise CompareError(
                f"the runs were evaluated differently, so their metrics do not compare: "
                f"{field} is {shown}; compare one at a time (e.g. --only={field}=...)"
            )
    return protocols[0]


def config_differences(inputs: list[Input]) -> list[tuple[str, list]]:
    """(field, [value per input]) for every config.json field that differs between inputs."""
    flats = [wd.flatten(item.config or {}) for item in inputs]
    fields = sorted({k for flat in flats for k in flat})
    missing = "<absent>"
    differences = []
    for field in fields:
        values = [flat.get(field, wd.ADDED_FIELDS.get(field, missing)) for flat in flats]
        if any(v != values[0] for v in values):
            differences.append((field, values))
    return differences


def shared_metrics(rows: list[dict], inputs: list[Input]) -> tuple[list[str], list[str]]:
    """(compared, dropped): the metrics with a finite value in every input, and those only
    some inputs have."""
    compared, dropped = [], []
    for column in candidates(rows):
        having = {r["input"] for r in rows if _finite([r.get(column)])}
        if len(having) == len(inputs):
            compared.append(column)
        elif having:
            dropped.append(column)
    return compared, dropped


def resolve_baseline(baseline: str | None, variants: list[str]) -> str | None:
    if baseline is None or baseline in variants:
        return baseline
    raise CompareError(f"--baseline={baseline} names no variant; choose one of {variants}")


def summarize(
    rows: list[dict],
    metrics: list[str],
    baseline: str | None,
    *,
    reps: int = stats.REPS,
    seed: int = 0,
) -> dict[str, list[dict]]:
    """{metric: one dict per variant, best first}: seeds, mean / SE (report's
    `_mean_std_sem`), 95% bootstrap CI of the mean, IQM with CI (>= `stats.IQM_MIN_SEEDS`
    seeds), and against `baseline` a `stats.Versus` (None for the baseline itself)."""
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    tables = {}
    for column in metrics:
        entries = []
        for variant in variants:
            values = _finite(r.get(column) for r in rows if r["variant"] == variant)
            entry = {"variant": variant, "seeds": len(values), "values": values}
            entry["few_seeds"] = 0 < len(values) < MIN_SEEDS  # 0: nothing shown at all
            entry["summary"] = report._mean_std_sem(values)
            entry["mean_ci"] = stats.mean_ci(values, reps=reps, seed=seed) if values else None
            fits = len(values) >= stats.IQM_MIN_SEEDS
            entry["iqm"] = stats.iqm_ci(values, reps=reps, seed=seed) if fits else None
            base = _finite(r.get(column) for r in rows if r["variant"] == baseline)
            entry["baseline_seeds"] = len(base)
            entry["versus"] = (
                stats.versus(
                    values,
                    base,
                    higher_is_better=higher_is_better(column),
                    reps=reps,
                    seed=seed,
                )
                if baseline and variant != baseline and values and base
                else None
            )
            entries.append(entry)
        sign = -1 if higher_is_better(column) else 1
        entries.sort(key=lambda e: (not e["seeds"], sign * e["summary"][0] if e["seeds"] else 0))
        for entry in entries:
            entry["supported"] = supported(entry)
        tables[column] = entries
    return tables


def supported(entry: dict) -> bool:
    """Whether the seeds support a difference between `entry`'s variant and the baseline: at
    least `MIN_SEEDS` seeds on each side, the CI of the difference excluding 0, that of the
    probability of improvement excluding 0.5, and p < 0.05."""
    versus = entry.get("versus")
    if versus is None or min(entry["seeds"], entry.get("baseline_seeds", 0)) < MIN_SEEDS:
        return False
    d, i = versus.difference, versus.improvement
    return (d.low > 0 or d.high < 0) and (i.low > 0.5 or i.high < 0.5) and versus.p_value < 0.05


def compare(
    args: Sequence[str],
    workdir: str,
    *,
    baseline: str | None = None,
    only: Sequence[str] = (),
    reps: int = stats.REPS,
    seed: int = 0,
    command: str = "",
) -> dict:
    """Compares the finished workdirs (or results.csv files) `args` and writes results.csv,
    report.md and plots/ into `workdir`. Every check runs before anything is written: a
    `CompareError` (or `ResultsError`) leaves the file system untouched. Returns the
    per-metric tables of `summarize`."""
    _check_workdir(workdir, args)
    inputs = load_inputs(args)
    rows = select(variant_rows(inputs), only)
    shared = check_protocol(rows)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    baseline = resolve_baseline(baseline, variants)
    metrics, dropped = shared_metrics(rows, inputs)
    if not metrics:
        raise CompareError("the inputs share no metric to compare")
    tables = summarize(rows, metrics, baseline, reps=reps, seed=seed)
    few = sorted({e["variant"] for entries in tables.values() for e in entries if e["few_seeds"]})
    if few:
        warnings.warn(
            f"{len(few)} variant(s) have fewer than {MIN_SEEDS} seeds ({', '.join(few[:3])}"
            f"{', ...' if len(few) > 3 else ''}): their intervals are not shown and no difference "
            "to them is claimed; train more seeds",
            stacklevel=2,
        )

    with _replacing(workdir) as folder:
        plots_dir = os.path.join(folder, "plots")
        wd.makedirs(plots_dir)
        with wd.writing(plots_dir):  # matplotlib's own writes
            plots = _plot_curves(rows, metrics, plots_dir, min(reps, 1_000), seed)
            plots += _plot_finals(tables, plots_dir)
            plots += _plot_profile(tables, plots_dir, reps, seed)
        public = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        wd.write_csv(os.path.join(folder, RESULTS), public)
        text = _report(
            workdir, inputs, rows, shared, tables, dropped, baseline, only, plots, command
        )
        wd.write_text(os.path.join(folder, "report.md"), text)
        record = {"inputs": list(args), "baseline": baseline, "only": list(only)}
        wd.write_json(os.path.join(folder, RECORD), {**record, "command": command})
    return tables


@contextlib.contextmanager
def _replacing(workdir: str):
    """Yields a new temporary folder beside `workdir` to write the outputs into; when the block
    ends it replaces `workdir` (an earlier comparison's, or empty, or missing) by two renames.
    If the block fails, the temporary folder is removed and `workdir` is left as it was."""
    target = os.path.abspath(workdir)
    parent, name = os.path.dirname(target), os.path.basename(target)
    wd.makedirs(parent)
    with wd.writing(parent):
        folder = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
    try:
        with wd.writing(folder):
            os.chmod(folder, wd.dir_mode())  # mkdtemp's is 0700
        yield folder
        with wd.writing(target):
            old = None
            if os.path.lexists(target):
                old = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
                os.replace(target, os.path.join(old, name))
            os.replace(folder, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _check_workdir(workdir: str, args: Sequence[str]) -> None:
    """--workdir must be new, empty or an earlier comparison's, and none of the inputs."""
    if not workdir:
        raise CompareError("--workdir is required, e.g. --workdir=runs/compare")
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise CompareError(f"--workdir={workdir} is a file; choose a folder")
    target = os.path.abspath(workdir)
    for arg in args:
        path = os.path.abspath(parse_input(arg)[0])
        folder = os.path.dirname(path) if path.endswith(".csv") else path
        if target == folder:  # replacing it would delete the input
            raise CompareError(f"--workdir={workdir} is one of the inputs; choose another folder")
        csv_input = path.endswith(".csv")  # its folder is not read: a --workdir there is fine
        if not csv_input and os.path.commonpath([target, folder]) == folder:
            raise CompareError(
                f"--workdir={workdir} is inside the input {arg} (a compare replaces its "
                "--workdir, and a folder inside a sweep is read as one of its runs); choose a "
                "folder outside it"
            )
        if os.path.commonpath([target, path]) == target:
            raise CompareError(
                f"--workdir={workdir} holds the input {arg} (a compare replaces its --workdir); "
                "choose another folder"
            )
    if os.path.isdir(workdir) and os.listdir(workdir):
        if not os.path.exists(os.path.join(workdir, RECORD)):
            raise CompareError(
                f"--workdir={workdir} holds other files; choose an empty or new folder"
            )


# --- report.md -------------------------------------------------------------------------------


def _digits(column: str) -> int:
    return 3 if metric_name(column) in ("reverse_kl", "precision", "recall") else 2


def _report(workdir, inputs, rows, shared, tables, dropped, baseline, only, plots, command):
    lines = [f"# Comparison: {os.path.basename(os.path.abspath(workdir))}", ""]
    lines += ["Made by:", "", f"    {command}" if command else "    (a Python call)", ""]
    lines += ["## Inputs", "", "| label | path | kind | runs compared | variants |"]
    lines += ["| --- | --- | --- | --- | --- |"]
    for item in inputs:
        mine = [r for r in rows if r["input"] == item.label]
        count = len(dict.fromkeys(r["variant"] for r in mine))
        lines.append(f"| {item.label} | `{item.path}` | {item.kind} | {len(mine)} | {count} |")
    if only:
        lines += ["", "Runs selected with " + ", ".join(f"`--only={c}`" for c in only) + "."]
    lines += ["", "## What differs between the inputs' configs (from their config.json)", ""]
    if len(inputs) == 1:
        lines.append("One input: its variants differ only in what its sweep varies.")
    else:
        differences = config_differences(inputs)
        if not differences:
            lines.append("Nothing: the inputs' config.json files are equal.")
        else:
            lines.append("| field | " + " | ".join(i.label for i in inputs) + " |")
            lines.append("| --- |" + " --- |" * len(inputs))
            for field, values in differences:
                cells = " | ".join(f"`{json.dumps(v)}`" for v in values)
                lines.append(f"| {field} | {cells} |")
    shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(shared.items()))
    lines += [
        "",
        "## What every run was evaluated on",
        "",
        (shown or "unknown (a results.csv without a config.json beside it)") + ".",
        "",
        "Compared: "
        + ", ".join(label(c) for c in tables)
        + "."
        + (
            " Dropped (not in every input): " + ", ".join(label(c) for c in dropped) + "."
            if dropped
            else ""
        ),
        "",
        "## How to read the statistics",
        "",
        "Each row is a variant, its seeds the samples. *mean ± SE*: mean over seeds and its "
        "standard error; *95% CI*: the percentile stratified bootstrap confidence interval of "
        "the mean; *IQM*: the interquartile mean (the mean of the middle 50% of seeds, robust "
        f"to one outlying seed; shown for >= {stats.IQM_MIN_SEEDS} seeds) with its CI "
        "(Agarwal et al. 2021, rliable's estimators)."
        + (
            f" Against the baseline **{baseline}**: *Δ*, the difference of means (variant - "
            "baseline) with its CI; *P(better)*, the probability that a seed of the variant "
            "beats a seed of the baseline (ties count 1/2, 0.5 = no difference) with its CI; "
            f"*p*, the {stats.TEST_NAME}; *supported*: yes when the CI of Δ excludes 0, that "
            "of P(better) excludes 0.5 and p < 0.05, a difference the seeds support (with 5 "
            "seeds against 5, the smallest two-sided p a rank test can give is 2/252 = 0.008)."
            if baseline
            else ""
        )
        + f" With fewer than {MIN_SEEDS} seeds a variant gets no interval and no test, and no "
        "difference to it is claimed."
        + " Missing or non-finite values (e.g. the KL of a run with no sample near a mode) are "
        "left out of their metric. Rows are ranked best first.",
    ]
    for column, entries in tables.items():
        digits = _digits(column)
        better = "higher" if higher_is_better(column) else "lower"
        lines += ["", f"## {label(column)} ({better} is better; `{column}`)", ""]
        head = "| rank | variant | seeds | mean ± SE | 95% CI | IQM [95% CI] |"
        rule = "| --- | --- | --- | --- | --- | --- |"
        if baseline:
            head += " Δ vs baseline [95% CI] | P(better) [95% CI] | p | supported |"
            rule += " --- | --- | --- | --- |"
        lines += [head, rule]
        for rank, e in enumerate(entries, 1):
            mean, _, sem, n = e["summary"]
            shown_mean = f"{mean:.{digits}f}" + (f" ± {sem:.{digits}f}" if n > 1 else "")
            interval = report._fmt_ci(e["mean_ci"], digits)
            cells = [
                str(rank),
                e["variant"] + (" (baseline)" if e["variant"] == baseline else ""),
                str(e["seeds"]),
                shown_mean if n else "n/a",
                f"n = {n}: no interval" if 0 < n < MIN_SEEDS else interval,
                f"{e['iqm'].estimate:.{digits}f} {report._fmt_ci(e['iqm'], digits)}"
                if e["iqm"]
                else "-",
            ]
            if baseline:
                cells += _versus_cells(e, digits)
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Plots", ""]
    lines += [f"![{name}](plots/{name})" for name in plots]
    return "\n".join(lines) + "\n"


def _versus_cells(entry: dict, digits: int) -> list[str]:
    """Δ [CI], P(better) [CI], p and supported against the baseline; with fewer than
    `MIN_SEEDS` seeds on a side the estimates alone, no interval, no test, not supported."""
    versus = entry["versus"]
    if versus is None:
        return ["-"] * 4
    n, m = entry["seeds"], entry["baseline_seeds"]
    if min(n, m) < MIN_SEEDS:
        d, i = versus.difference.estimate, versus.improvement.estimate
        return [
            f"{d:+.{digits}f} (n = {n} vs {m}: no interval)",
            f"{i:.2f} (no interval)",
            "no test",
            f"no: n = {min(n, m)}",
        ]
    return [*report.versus_cells(versus, digits), "yes" if entry["supported"] else "no"]


# --- plots -----------------------------------------------------------------------------------


def _plot_curves(rows, metrics, plots_dir, reps, seed) -> list[str]:
    """Each metric over training per variant: mean over seeds, band: its pointwise 95%
    bootstrap CI. Runs without a history (results.csv inputs) are left out."""
    import matplotlib.pyplot as plt

    names = []
    for column in metrics:
        metric = column.removeprefix("final_")  # as metrics.jsonl names it: "fd", "drs/fd"
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        drawn = False
        for variant in dict.fromkeys(r["variant"] for r in rows):
            histories = [r["_history"] for r in rows if r["variant"] == variant and r["_history"]]
            histories = [h for h in histories if any(metric in e for e in h)]
            if not histories:
                continue
            length = min(len(h) for h in histories)
            steps = [e["step"] for e in histories[0][:length]]
            curves = np.array(
                [
                    [np.nan if e.get(metric) is None else e[metric] for e in h[:length]]
                    for h in histories
                ],
                dtype=float,
            )
            mean, low, high = stats.pointwise_mean_ci(curves, reps=reps, seed=seed)
            line = ax.plot(steps, mean, label=variant)[0]
            ax.fill_between(steps, low, high, alpha=0.2, color=line.get_color())
            drawn = True
        if not drawn:
            plt.close(fig)
            continue
        ax.set_xlabel("step")
        ax.set_ylabel(label(column))
        ax.set_title("mean over seeds, band: 95% bootstrap CI", fontsize=8)
        ax.legend(fontsize=7)
        names.append(_save(fig, plots_dir, f"curve_{metric.replace('/', '_')}.png"))
    return names


def _plot_finals(tables, plots_dir) -> list[str]:
    """Final values per variant: one dot per seed, the mean with its 95% CI as a bar."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(4 * len(tables), 3.6), squeeze=False)
    for ax, (column, entries) in zip(axes[0], tables.items(), strict=True):
        order = list(reversed(entries))  # best at the top
        for y, e in enumerate(order):
            count = len(e["values"])
            jitter = np.linspace(-0.15, 0.15, count) if count > 1 else np.zeros(count)
            ax.scatter(e["values"], y + jitter, s=14, alpha=0.7)
            if e["mean_ci"] and not e["few_seeds"]:
                ci = e["mean_ci"]
                ax.errorbar(
                    [ci.estimate],
                    [y],
                    xerr=[[ci.estimate - ci.low], [ci.high - ci.estimate]],
                    fmt="D",
                    color="black",
                    capsize=3,
                    markersize=4,
                )
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels([e["variant"] for e in order], fontsize=6)
        ax.set_xlabel(label(column))
    return [_save(fig, plots_dir, "final_metrics.png")]


def _plot_profile(tables, plots_dir, reps, seed) -> list[str]:
    """Performance profile: the fraction of seeds with modes covered >= tau, every tau."""
    import matplotlib.pyplot as plt

    entries = [e for e in tables.get("final_modes_covered", []) if e["values"]]
    if not entries:
        return []
    top = max(max(e["values"]) for e in entries)
    taus = np.arange(0, top + 1) if top <= 200 else np.linspace(0, top, 201)
    profiles = stats.performance_profile(
        {e["variant"]: e["values"] for e in entries}, taus, reps=min(reps, 1_000), seed=seed
    )
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for variant, (fraction, low, high) in profiles.items():
        line = ax.step(taus, fraction, where="post", label=variant)[0]
        ax.fill_between(taus, low, high, step="post", alpha=0.15, color=line.get_color())
    ax.set_xlabel("τ (modes covered)")
    ax.set_ylabel("fraction of seeds ≥ τ")
    ax.set_title("performance profile, band: 95% bootstrap CI (Agarwal et al. 2021)", fontsize=8)
    ax.legend(fontsize=7)
    return [_save(fig, plots_dir, "profile_modes_covered.png")]


# --- command line ----------------------------------------------------------------------------


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    del category, filename, lineno, line
    print(f"warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def main(argv: list[str]) -> None:
    command = "python -m gan_jax.compare " + shlex.join(sys.argv[1:])
    if not flags.FLAGS["verbosity"].present:  # no INFO lines of jax's backends (a sweep over
        logging.set_verbosity(logging.WARNING)  # config files rebuilds its runs, with jax)
    warnings.showwarning = _one_line_warning  # a skipped folder, too few seeds: one line each
    try:
        if _REPS.value < 100:
            raise CompareError(f"--reps={_REPS.value} is invalid: must be >= 100")
        compare(
            argv[1:],
            _WORKDIR.value,
            baseline=_BASELINE.value,
            only=_ONLY.value,
            reps=_REPS.value,
            seed=_SEED.value,
            command=command,
        )
    except (ResultsError, wd.WorkdirError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {os.path.join(_WORKDIR.value, 'report.md')}")


if __name__ == "__main__":
    # Defined here, not at import: another command's module (gan_jax.results.spectrum, say) may be
    # imported into the same process, and absl flags are global.
    _WORKDIR = flags.DEFINE_string("workdir", None, "Folder for results.csv, report.md and plots/.")
    _BASELINE = flags.DEFINE_string(
        "baseline",
        None,
        "The variant the others are tested against, e.g. unroll_ring:unroll.steps=0.",
    )
    _ONLY = flags.DEFINE_multi_string(
        "only", [], "Keep only runs with field=value (a swept or any config field); repeatable."
    )
    _REPS = flags.DEFINE_integer("reps", stats.REPS, "Bootstrap resamples per interval.")
    _SEED = flags.DEFINE_integer("seed", 0, "Seed of the bootstrap resampling.")
    app.run(main)
