"""Multi-host through JAX's own runtime: two processes on localhost (one CPU device each) train
a sweep whose runs axis spans both, and write the same numbers as one process with several
devices."""

import ast
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys

from conftest import overwrite_four_bytes

from configs.sweeps import unroll_ring
from gan_jax.commands import train_and_report
from gan_jax.step.config import set_field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = [
    "--config=configs/sweeps/unroll_ring.py",
    "--config.sweep.seeds=2",
    "--config.sweep.grid.unroll.steps=(0,)",
    "--config.num_steps=10",
    "--config.eval_every=10",
    "--config.checkpoint_every=10",
    "--config.batch_size=32",
    "--config.model.g.latent_dim=8",
    "--config.model.g.hidden_sizes=(16,16)",
    "--config.model.d.hidden_sizes=(16,)",
    "--config.eval.num_samples=128",
    "--config.eval.plot_samples=0",  # no figures: the test compares metrics
]


def _env(devices):
    """The session's XLA flags (conftest: the fast-compiling emitters), with `devices` CPUs."""
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in f]
    flags.append(f"--xla_force_host_platform_device_count={devices}")
    return {**os.environ, "XLA_FLAGS": " ".join(flags)}


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _last_rows(workdir):
    rows = {}
    for name in sorted(os.listdir(os.path.join(workdir, "runs"))):
        with open(os.path.join(workdir, "runs", name, "metrics.jsonl")) as f:
            rows[name] = json.loads(f.readlines()[-1])
    return rows


def _start_two_processes(workdir, *flags):
    """The sweep (`SWEEP`, then `flags`) started on two processes on localhost, one CPU each."""
    port = _free_port()
    command = [sys.executable, "-m", "gan_jax.main", *SWEEP, *flags]
    processes = [
        subprocess.Popen(
            [
                *command,
                f"--workdir={workdir}",
                "--distributed",
                f"--coordinator_address=localhost:{port}",
                "--num_processes=2",
                f"--process_id={i}",
            ],
            cwd=ROOT,
            env=_env(1),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    return processes


def _train_on_two_processes(workdir, *flags):
    """The sweep (`SWEEP`, then `flags`) trained to its end by two processes on localhost."""
    for process in _start_two_processes(workdir, *flags):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()[-2000:]


def test_two_processes_on_localhost_match_one_process(tmp_path):
    multi, single = str(tmp_path / "multi"), str(tmp_path / "single")
    _train_on_two_processes(multi)
    # The one-process reference in this process (conftest's 4 CPU devices; the runs axis takes
    # 2): the same sweep as the command line's, without another process's start-up.
    config = unroll_ring.get_config()
    for flag in SWEEP[1:]:
        field, value = flag.removeprefix("--config.").split("=")
        set_field(config, field, ast.literal_eval(value))
    assert train_and_report(config, single, progress=False).finished
    multi_rows, single_rows = _last_rows(multi), _last_rows(single)
    assert list(multi_rows) == ["unroll.steps=0,seed=0", "unroll.steps=0,seed=1"]
    for name, row in multi_rows.items():
        for key in ("d/loss", "g/loss", "d/grad_norm", "g/grad_norm", "high_quality_pct"):
            assert abs(row[key] - single_rows[name][key]) <= 1e-5 * max(1.0, abs(row[key])), key
    assert os.path.exists(os.path.join(multi, "results.csv"))


def test_two_processes_resume_past_a_damaged_checkpoint(tmp_path):
    """Both processes skip the damaged newest checkpoint, process 0 moves it aside, and every
    process forgets it (one that still listed it skipped that step's save while the other
    gathered the state's digest: a collective mismatch, which aborted both). Retrained from the
    step before, the damaged step's numbers come out as they first did."""
    workdir = str(tmp_path / "multi")
    _train_on_two_processes(workdir, "--config.checkpoint_every=5", "--config.eval_every=5")
    first = _last_rows(workdir)
    (step_10,) = glob.glob(os.path.join(workdir, "checkpoints", "*", "10"))
    overwrite_four_bytes(step_10)
    _train_on_two_processes(
        workdir, "--config.checkpoint_every=5", "--config.eval_every=5", "--config.num_steps=15"
    )
    (moved,) = glob.glob(os.path.join(workdir, "checkpoints", "*", "10.damaged-*"))
    assert set(os.listdir(os.path.dirname(moved))) == {"5", "10", "15", os.path.basename(moved)}
    for name, row in first.items():
        with open(os.path.join(workdir, "runs", name, "metrics.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        assert [r["step"] for r in rows] == [0, 5, 10, 15]
        timing = {"steps_per_sec"}
        assert {k: v for k, v in rows[2].items() if k not in timing} == {
            k: v for k, v in row.items() if k not in timing
        }


def test_a_signal_to_one_process_stops_both_at_one_step_after_saving(tmp_path):
    """SIGTERM reaches process 0 only (a scheduler preempting one host): both processes stop
    after the same chunk, save that step's checkpoint together and exit 128 + SIGTERM (before,
    process 0 stopped alone and both waited at mismatched collectives forever)."""
    workdir = str(tmp_path / "multi")
    first, second = _start_two_processes(
        workdir,
        "--config.num_steps=1000000",
        "--config.eval_every=20",
        "--config.checkpoint_every=1000000",  # the stop's checkpoint only
    )
    for line in first.stderr:
        if b"step 20/" in line:
            break
    first.send_signal(signal.SIGTERM)
    stderrs = []
    for process in (first, second):
        try:
            stderrs.append(process.communicate(timeout=120)[1].decode())
        except subprocess.TimeoutExpired:
            for each in (first, second):
                each.kill()
            raise
        assert process.returncode == 128 + signal.SIGTERM, stderrs[-1][-2000:]
        assert "stopped by SIGTERM after saving" in stderrs[-1]
    (stopped,) = re.findall(r"sweep stopped at step (\d+)/", stderrs[0])
    (saved,) = glob.glob(os.path.join(workdir, "checkpoints", "*", "*"))
    assert os.path.basename(saved) == stopped and int(stopped) % 20 == 0
