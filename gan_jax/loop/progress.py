"""What a run or a sweep says while it trains: one log line per eval through absl logging, with
or without a terminal, and on a terminal a tqdm bar that the lines print above.

Runs on GPU/TPU machines are mostly started off a terminal (`make run > train.log 2>&1`, nohup,
SLURM, CI), where tqdm draws nothing; these lines are what a researcher reads there to decide
whether to stop a job. Each names the step, the speed, the ETA and the evaluator's declared
metrics (`gan_jax.metrics.declared`), with their EMA (and any other "<prefix>/") variants:

    step 10/20 (50%), 812.3 steps/s, ETA 0:00:01 | modes_covered=8 high_quality_pct=72.25 ...

A sweep logs one line per group per eval, each metric as the group's mean [min, max].
"""

import datetime
import math
import signal
import sys

import numpy as np
from absl import logging
from tqdm import tqdm

from gan_jax.metrics.declared import SAMPLER, Metric


def headline_keys(declared: tuple[Metric, ...], row: dict) -> list[tuple[str, Metric]]:
    """The keys of `row` that hold a declared metric, with its declaration: the raw G's in
    declaration order, then each variant's ("ema/modes_covered", ...) in order of appearance,
    a sampler's with its diagnostics ("drs/acceptance_rate", `declared.SAMPLER`)."""
    names = {m.name for m in declared}
    keys = [(m.name, m) for m in declared if m.name in row]
    prefixes = dict.fromkeys(
        key.rpartition("/")[0] for key in row if "/" in key and key.rpartition("/")[2] in names
    )
    for prefix in prefixes:
        keys += [
            (f"{prefix}/{m.name}", m) for m in declared + SAMPLER if f"{prefix}/{m.name}" in row
        ]
    return keys


def format_value(value, digits: int) -> str:
    """A metric with its declared digits; a whole number (modes covered) without decimals."""
    if value is None:  # metrics.jsonl stores a non-finite value as null
        return "nan"
    value = float(value)
    if math.isfinite(value) and value.is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def spread_text(values, digits: int) -> str:
    """One run's value, or several runs' "mean [min, max]" over their finite values."""
    if len(values) == 1:
        return format_value(values[0], digits)
    finite = _finite(values)
    if not finite:
        return "nan"
    low, mean, high = (format_value(v, digits) for v in (min(finite), np.mean(finite), max(finite)))
    return f"{mean} [{low}, {high}]"


def metrics_text(rows: list[dict], declared: tuple[Metric, ...]) -> str:
    """The declared metrics of one run's row, or of several runs' rows as mean [min, max]."""
    return " ".join(
        f"{key}={spread_text([row.get(key) for row in rows], metric.digits)}"
        for key, metric in headline_keys(declared, rows[0])
    )


def format_duration(seconds: float) -> str:
    """Seconds as H:MM:SS (hours unbounded), "?" when unknown."""
    if not math.isfinite(seconds):
        return "?"
    return str(datetime.timedelta(seconds=round(seconds)))


def diverged_text(rows: list[dict]) -> str:
    """Which runs diverged (their "diverged_at" >= 0), or "" when none did."""
    steps = [int(row["diverged_at"]) for row in rows if _diverged(row)]
    if not steps:
        return ""
    if len(rows) == 1:
        return f"diverged at step {steps[0]} (frozen there)"
    return f"{len(steps)} of {len(rows)} runs diverged"


def _diverged(row: dict) -> bool:
    value = row.get("diverged_at")
    return value is not None and value >= 0


def eval_line(
    step: int,
    num_steps: int,
    steps_per_sec: float | None,
    eta_seconds: float | None,
    rows: list[dict],
    declared: tuple[Metric, ...],
    group: str | None = None,
) -> str:
    """The log line of one eval of a run (one row) or of a sweep group (a row per run)."""
    parts = [f"step {step}/{num_steps} ({100 * step // max(num_steps, 1)}%)"]
    if steps_per_sec is not None:
        parts.append(f"{steps_per_sec:.1f} steps/s")
    if eta_seconds is not None:
        parts.append(f"ETA {format_duration(eta_seconds)}")
    head = ", ".join(parts)
    if group is not None:
        head = f"{group} {head}"
    sections = [head, metrics_text(rows, declared), diverged_text(rows)]
    return " | ".join(section for section in sections if section)


class Progress:
    """The progress bar (on a terminal) and the eval lines of one run or sweep.

    Counts run-steps: a group of 4 runs that advances 10 steps does 40, so a sweep's ETA covers
    every group still to train, at the speed of the group training now.
    """

    def __init__(self, total: int, *, bar: bool = True, log: bool = True, unit_scale=False):
        """`total` run-steps to train; `bar`: draw a bar when stderr is a terminal; `log`: log
        the eval lines (the primary process)."""
        self.total = total
        self.done = 0
        self.log = log
        self.group: str | None = None  # a sweep's "group 1/2 [...]", named in its lines
        self.bar = tqdm(
            total=total,
            unit="step",
            unit_scale=unit_scale,
            disable=None if bar else True,  # None: only on a terminal
            dynamic_ncols=True,
        )

    def update(self, run_steps: int) -> None:
        """Counts `run_steps` more as done (trained, or restored from a checkpoint)."""
        self.done += run_steps
        self.bar.update(run_steps)

    def eta(self, steps_per_sec: float, num_runs: int) -> float:
        """Seconds left for every run-step still to do, at `steps_per_sec` for `num_runs`."""
        rate = steps_per_sec * num_runs
        return (self.total - self.done) / rate if rate > 0 else math.inf

    def log_eval(
        self,
        step: int,
        num_steps: int,
        steps_per_sec: float | None,
        rows: list[dict],
        declared: tuple[Metric, ...],
    ) -> None:
        """Logs one eval (`rows`: each run's eval metrics and "diverged_at") and shows its
        metrics beside the bar."""
        if not self.log:
            return
        eta = None if steps_per_sec is None else self.eta(steps_per_sec, len(rows))
        line = eval_line(step, num_steps, steps_per_sec, eta, rows, declared, self.group)
        self.bar.set_postfix_str(metrics_text(rows, declared), refresh=False)
        self.info(line)

    def info(self, line: str) -> None:
        """Logs `line` at INFO, above the bar when one is drawn."""
        with tqdm.external_write_mode(file=sys.stderr):
            logging.info("%s", line)

    def warning(self, line: str) -> None:
        """Logs `line` at WARNING, above the bar when one is drawn."""
        with tqdm.external_write_mode(file=sys.stderr):
            logging.warning("%s", line)

    def close(self) -> None:
        self.bar.close()


def stopped_line(step: int, num_steps: int, signal_number: int | None, where: str = "") -> str:
    """What an interrupted run or sweep logs: where it stopped (`where`: e.g. a sweep's group),
    by which signal, and how to go on."""
    by = f" by {signal.Signals(signal_number).name}" if signal_number is not None else ""
    where = f" of {where}" if where else ""
    return (
        f"stopped at step {step}/{num_steps}{where}{by} after saving a checkpoint; rerun the "
        "same command to resume"
    )
