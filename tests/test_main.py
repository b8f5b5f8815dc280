"""The command line: bad input is one line on stderr, SIGTERM saves a checkpoint."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import run_main

import gan_jax
from gan_jax.loop.writers import read_metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [
    "--config.batch_size=32",
    "--config.model.g.latent_dim=8",
    "--config.model.g.hidden_sizes=(16,16)",
    "--config.model.d.hidden_sizes=(16,)",
    "--config.eval.num_samples=128",
    "--config.eval.plot_samples=0",  # no figures: nothing here reads them
]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--config=configs/unrolled.py", "--config.unroll.stepz=3"],
            "error: --config.unroll.stepz=3: the config has no field 'unroll.stepz'; did you mean \"steps\"?",
        ),
        (["--config=configs/missing.py"], "error: --config=configs/missing.py: no such file"),
        (
            ["--config=gan_jax/__init__.py"],
            "error: --config=gan_jax/__init__.py: the file has no get_config() function",
        ),
        (
            ["--config=configs/unrolled.py", "--config.num_steps=1.5"],
            "error: flag --config.num_steps=1.5: invalid literal for int()",
        ),
        (
            ["--config=configs/unrolled.py", "--config.unroll.steps=-2"],
            "error: unroll.steps=-2 is invalid: must be an integer >= 0",
        ),
        (
            ["--config=configs/unrolled.py", "--config.optim.d.learning_rate=inf"],
            "error: optim.d.learning_rate=inf is invalid: must be a finite number",
        ),
    ],
)
def test_bad_command_lines_print_one_line(args, message, tmp_path):
    result = run_main(*args, f"--workdir={tmp_path}")
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_sigterm_saves_a_checkpoint_and_the_run_resumes(tmp_path):
    workdir = str(tmp_path)
    args = ["--config=configs/gan.py", f"--workdir={workdir}", "--config.eval_every=20", *TINY]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gan_jax.main",
            *args,
            "--config.num_steps=1000000",
            "--config.checkpoint_every=1000000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    deadline = time.time() + 240
    while len(read_metrics(metrics_path)) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr.decode()
    assert "stopped by SIGTERM after saving" in stderr.decode()
    saved = gan_jax.restore(workdir).step
    assert 20 <= saved < 1_000_000 and saved % 20 == 0
    assert "rerun the same command to resume" in stderr.decode()

    # Raising num_steps is allowed on resume; the run continues from the saved step.
    result = run_main(
        *args, f"--config.num_steps={saved + 20}", "--config.checkpoint_every=1000000"
    )
    assert result.returncode == 0, result.stderr
    steps = [row["step"] for row in read_metrics(metrics_path)]
    assert steps[-1] == saved + 20 and len(steps) == len(set(steps))
    assert gan_jax.restore(workdir).step == saved + 20


def test_sweep_from_the_command_line_with_a_seeds_override(tmp_path):
    result = run_main(
        "--config=configs/sweeps/unroll_ring.py",
        f"--workdir={tmp_path}",
        "--config.sweep.seeds=2",
        # One group (k = 1 would add an unrolled compile that test_sweep.py already pays).
        "--config.sweep.grid.unroll.steps=(0,)",
        "--config.num_steps=10",
        "--config.eval_every=10",
        "--config.checkpoint_every=10",
        *TINY,
    )
    assert result.returncode == 0, result.stderr
    runs = sorted(os.listdir(tmp_path / "runs"))
    assert runs == ["unroll.steps=0,seed=0", "unroll.steps=0,seed=1"]
    assert (tmp_path / "results.csv").exists() and (tmp_path / "report.md").exists()
    assert gan_jax.restore(str(tmp_path / "runs" / "unroll.steps=0,seed=1")).step == 10


def test_the_config_file_is_executed_once_and_its_failures_are_one_line(tmp_path):
    counter = tmp_path / "executions"
    config = tmp_path / "counting.py"
    config.write_text(
        "from configs import default\n"
        f"with open({str(counter)!r}, 'a') as f:\n"
        "    f.write('x')\n"
        "def get_config():\n"
        "    return default.get_config()\n"
    )
    result = run_main(f"--config={config}", "--config.unroll.steps=-1", f"--workdir={tmp_path}/w")
    assert result.returncode == 2 and "unroll.steps=-1 is invalid" in result.stderr
    assert counter.read_text() == "x"
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no data here')\n")
    result = run_main(f"--config={broken}", f"--workdir={tmp_path}/w")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: --config={broken}: the file fails to import (RuntimeError: no data here)"
    )
