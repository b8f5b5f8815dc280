"""What a run says in its log, on a terminal or not: one absl line per eval (step, speed, ETA,
the evaluator's declared metrics), one per sweep group, a closing summary, and where an
interrupt stopped. The numbers in the lines are checked against metrics.jsonl."""

import fcntl
import logging
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import ml_collections
import numpy as np
import pytest
from absl import logging as absl_logging
from conftest import ROOT, make_tiny_config, run_main

import gan_jax
from gan_jax.loop import progress, sweep
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import Outcome
from gan_jax.metrics import declared
from gan_jax.results import summary

TESTS = os.path.dirname(os.path.abspath(__file__))
# A config file holding conftest's tiny config (plus `extra`), for the command line.
CONFIG_FILE = """
import sys
sys.path.insert(0, {tests!r})
import ml_collections
from conftest import make_tiny_config

def get_config():
    config = make_tiny_config(**{overrides!r})
    {extra}
    return config
"""
# "step 10/20 (50%), 812.3 steps/s, ETA 0:00:01 | modes_covered=8 ..." (speed and ETA from the
# second eval on), after a group's name in a sweep.
EVAL_LINE = re.compile(
    r"(?P<group>group \S+ \[[^\]]*\] )?step (?P<step>\d+)/(?P<total>\d+) \(\d+%\)"
    r"(?:, (?P<speed>[\d.]+) steps/s, ETA (?P<eta>[\d:]+))? \| (?P<metrics>[^\r\n]*)"
)
MIXTURE_NAMES = [m.name for m in declared.MIXTURE]


def _config_file(tmp_path, name, overrides=None, extra="pass") -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(CONFIG_FILE.format(tests=TESTS, overrides=overrides or {}, extra=extra))
    return str(path)


def _eval_lines(text: str) -> list[dict]:
    return [match.groupdict() for match in EVAL_LINE.finditer(text)]


def _shown(metrics_text: str) -> dict[str, str]:
    """{"modes_covered": "8", "ema/reverse_kl": "0.123 [0.1, 0.2]", ...} of a line's metrics."""
    return dict(re.findall(r"(\S+)=(\S+(?: \[[^\]]*\])?)", metrics_text))


def _seconds(eta: str) -> int:
    hours, minutes, seconds = (int(part) for part in eta.split(":"))
    return 3600 * hours + 60 * minutes + seconds


def _assert_close(shown: str, value, digits: int) -> None:
    """A number as a line shows it ("nan" for a non-finite value) against the logged value."""
    if value is None:
        assert shown == "nan"
    else:
        assert abs(float(shown) - value) <= 0.5 * 10.0**-digits + 1e-9, (shown, value)


def _check_run_lines(text: str, workdir: str) -> None:
    """One line per logged eval, with the logged metrics, speed and ETA; then the summary."""
    rows = {row["step"]: row for row in wd.read_metrics(os.path.join(workdir, wd.METRICS))}
    lines = _eval_lines(text)
    assert [int(line["step"]) for line in lines] == sorted(rows) == [0, 10, 20]
    for line in lines:
        row, step = rows[int(line["step"])], int(line["step"])
        shown = _shown(line["metrics"])
        # The declared metrics, then their EMA variants, named as metrics.jsonl names them.
        assert list(shown) == MIXTURE_NAMES + [f"ema/{name}" for name in MIXTURE_NAMES]
        digits = {m.name: m.digits for m in declared.MIXTURE}
        for key, value in shown.items():
            _assert_close(value, row[key], digits[key.removeprefix("ema/")])
        if step == 0:
            assert line["speed"] is None and line["eta"] is None
        else:
            assert abs(float(line["speed"]) - row["steps_per_sec"]) <= 0.05
            assert abs(_seconds(line["eta"]) - (20 - step) / row["steps_per_sec"]) <= 1
    final = rows[20]
    closing = re.search(r"run finished at step 20/20 \| final eval \(step 20\): ([^\r\n]*)", text)
    assert closing, text
    assert (
        _shown(closing.group(1))["modes_covered"] == _shown(lines[-1]["metrics"])["modes_covered"]
    )
    assert final["diverged_at"] == -1
    assert f"next: tensorboard --logdir {workdir}" in text


def test_a_run_off_a_terminal_logs_every_eval_with_its_eta_and_a_summary(tmp_path):
    workdir = str(tmp_path / "run")
    config = _config_file(tmp_path, "tiny", {"ema.enabled": True})
    result = run_main(f"--config={config}", f"--workdir={workdir}")  # stderr: a pipe
    assert result.returncode == 0, result.stderr
    _check_run_lines(result.stderr, workdir)
    assert "step/s]" not in result.stderr  # no bar off a terminal
    # Below WARNING only gan_jax speaks: no orbax report of every checkpoint file.
    info = [line for line in result.stderr.splitlines() if line.startswith("I")]
    assert info and all(re.search(r" (progress|commands)\.py:\d+\] ", line) for line in info)


def test_a_sweep_off_a_terminal_logs_one_line_per_group_per_eval_and_ranks_its_variants(
    tmp_path,
):
    workdir = str(tmp_path / "sweep")
    grid = "dict(optim=dict(d=dict(learning_rate=(1e-4, 1e-3))))"
    extra = f"config.sweep = ml_collections.ConfigDict(dict(seeds=2, grid={grid}))"
    config = _config_file(tmp_path, "tiny_sweep", extra=extra)
    result = run_main(f"--config={config}", f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    # Both learning rates are dynamic: one group of 4 runs, so one line per eval, not four.
    lines = _eval_lines(result.stderr)
    assert [int(line["step"]) for line in lines] == [0, 10, 20]
    group = "group 1/1 [optim.d.learning_rate=0.0001 and 1 more, 4 runs] "
    assert all(line["group"] == group for line in lines)
    names = sorted(os.listdir(os.path.join(workdir, "runs")))
    assert len(names) == 4
    rows = [
        {row["step"]: row for row in wd.read_metrics(os.path.join(workdir, "runs", n, wd.METRICS))}
        for n in names
    ]
    for line in lines:
        step = int(line["step"])
        shown = _shown(line["metrics"])
        assert list(shown) == MIXTURE_NAMES
        for metric in declared.MIXTURE:
            values = [r[step][metric.name] for r in rows]
            finite = [v for v in values if v is not None]
            if not finite:
                assert shown[metric.name] == "nan"
                continue
            mean, low, high = re.fullmatch(r"(\S+) \[(\S+), (\S+)\]", shown[metric.name]).groups()
            for text, value in ((mean, np.mean(finite)), (low, min(finite)), (high, max(finite))):
                _assert_close(text, value, metric.digits)
        if step:
            assert abs(_seconds(line["eta"]) - (20 - step) / rows[0][step]["steps_per_sec"]) <= 1
    assert "sweep finished: 4 of 4 runs finished in 2 variant(s), 0 diverged" in result.stderr
    assert re.search(r"best by modes_covered|no best variant: all 2 tie", result.stderr)
    assert f"next: {workdir}/report.md, tensorboard --logdir {workdir}" in result.stderr


def _run_on_a_terminal(args: list[str], timeout: float = 300) -> tuple[int, str]:
    """`python -m gan_jax.main *args` with stdin, stdout and stderr on a pseudo-terminal 160
    columns wide: its return code and everything it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_jax.main", *args],
        cwd=ROOT,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks, deadline = [], time.time() + timeout
    while time.time() < deadline:
        if not select.select([leader], [], [], 1.0)[0]:
            continue
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_on_a_terminal_the_bar_shows_and_the_same_lines_print_above_it(tmp_path):
    workdir = str(tmp_path / "run")
    config = _config_file(tmp_path, "tiny", {"ema.enabled": True})
    code, text = _run_on_a_terminal([f"--config={config}", f"--workdir={workdir}"])
    assert code == 0, text
    assert re.search(r"\d+%\|.*\| \d+/20 \[.*step/s", text), text  # tqdm's bar
    _check_run_lines(text, workdir)
    # Each eval line starts a line of its own (the bar is cleared, then drawn again below it).
    for line in text.replace("\r\n", "\n").split("\n"):
        if EVAL_LINE.search(line):
            assert line.rpartition("\r")[2].startswith("I"), repr(line)


@pytest.fixture
def absl_info(caplog):
    """absl logs INFO into `caplog` (its verbosity is a flag, which checkpointing resets)."""
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    caplog.set_level(logging.INFO)
    yield caplog
    absl_logging.set_verbosity(verbosity)


def test_interrupts_say_where_they_stopped(tmp_path, absl_info):
    from gan_jax.commands import train_and_report

    caplog = absl_info
    config = make_tiny_config()
    outcome = train_and_report(config, str(tmp_path / "run"), stop_after_chunks=1, progress=False)
    assert not outcome.finished and int(outcome.state.step) == 10
    messages = [record.getMessage() for record in caplog.records]
    stopped = "stopped at step 10/20 after saving a checkpoint; rerun the same command to resume"
    assert stopped in messages
    assert any(m.startswith("run stopped at step 10/20; rerun") for m in messages), messages

    caplog.clear()
    config.sweep = ml_collections.ConfigDict(dict(seeds=2))
    train_and_report(config, str(tmp_path / "sweep"), stop_after_chunks=1, progress=False)
    assert gan_jax.restore(str(tmp_path / "sweep" / "runs" / "seed=1")).step == 10
    messages = [record.getMessage() for record in caplog.records]
    assert f"sweep {stopped.replace('10/20', '10/20 of group 1/1 [base, 2 runs]')}" in messages
    closing = (
        "sweep stopped; rerun the same command to resume: 0 of 2 runs finished in 0 variant(s)"
    )
    assert f"{closing}, 0 diverged" in messages


def _fake_sweep(workdir: str, config, finals: dict) -> None:
    """A sweep's run folders holding only their last metrics row and finished marker."""
    for run in sweep.expand(config):
        run_dir = sweep.run_dir(workdir, run)
        wd.makedirs(run_dir)
        modes, hq = finals[run.config.unroll.steps][run.config.seed]
        row = {"step": 20, "modes_covered": modes, "high_quality_pct": hq, "diverged_at": -1}
        wd.append_metrics(os.path.join(run_dir, wd.METRICS), {**row, "reverse_kl": 0.25})
        wd.mark_finished(run_dir, run.name, 20)


def test_a_sweeps_summary_ranks_variants_by_the_first_declared_metric_then_the_next(tmp_path):
    config = make_tiny_config()
    config.sweep = ml_collections.ConfigDict(dict(seeds=2, grid=dict(unroll=dict(steps=(0, 1, 2)))))
    # unroll.steps=1 and 2 tie on modes (8); HQ % (declared next) makes 1 the best.
    finals = {0: [(5, 50.0), (7, 40.0)], 1: [(8, 90.0), (8, 80.0)], 2: [(8, 61.5), (8, 70.0)]}
    workdir = str(tmp_path)
    _fake_sweep(workdir, config, finals)
    outcome = Outcome(finished=True, stopped_by=None, diverged={"unroll.steps=0,seed=1": 12})
    lines = summary.sweep_summary(config, workdir, outcome)
    assert lines == [
        "sweep finished: 6 of 6 runs finished in 3 variant(s), 1 diverged",
        "  unroll.steps=0 (2 seed(s), 1 diverged): modes_covered=6 [5, 7] "
        "high_quality_pct=45 [40, 50] reverse_kl=0.250 [0.250, 0.250]",
        "  unroll.steps=1 (2 seed(s)): modes_covered=8 [8, 8] high_quality_pct=85 [80, 90] "
        "reverse_kl=0.250 [0.250, 0.250]",
        "  unroll.steps=2 (2 seed(s)): modes_covered=8 [8, 8] high_quality_pct=65.8 [61.5, 70] "
        "reverse_kl=0.250 [0.250, 0.250]",
        "best by modes_covered (higher is better): unroll.steps=1 (8 [8, 8]); "
        "worst: unroll.steps=0 (6 [5, 7])",
        f"next: tensorboard --logdir {workdir}",
    ]


def test_an_eval_line_shows_the_declared_metrics_and_their_variants():
    rows = [
        {"reverse_kl": 0.5, "modes_covered": 8.0, "ema/modes_covered": 7.0, "d/loss": 1.3},
        {"reverse_kl": 0.25, "modes_covered": 6.0, "ema/modes_covered": 8.0, "d/loss": 1.1},
    ]
    line = progress.eval_line(
        10, 40, 2.5, 3725.4, rows, declared.MIXTURE, "group 2/3 [k=1, 2 runs]"
    )
    assert line == (
        "group 2/3 [k=1, 2 runs] step 10/40 (25%), 2.5 steps/s, ETA 1:02:05 | "
        "modes_covered=7 [6, 8] reverse_kl=0.375 [0.250, 0.500] ema/modes_covered=7.50 [7, 8]"
    )
    one = [{**rows[0], "diverged_at": 7}]
    assert progress.eval_line(0, 40, None, None, one, declared.MIXTURE) == (
        "step 0/40 (0%) | modes_covered=8 reverse_kl=0.500 ema/modes_covered=7 | "
        "diverged at step 7 (frozen there)"
    )


@pytest.mark.parametrize(
    "seconds, shown", [(0.4, "0:00:00"), (61, "0:01:01"), (90061, "1 day, 1:01:01")]
)
def test_durations_read_as_hours_minutes_seconds(seconds, shown):
    assert progress.format_duration(seconds) == shown
