"""Command-line plumbing in process: every bad flag is one line, outcomes map to exit codes,
and importing a part of the package leaves the heavy stacks unloaded."""

import signal
import subprocess
import sys

import pytest
from absl import flags
from conftest import ROOT
from ml_collections import config_flags

from gan_jax import cli
from gan_jax.loop.run import Outcome


def _parse(*args):
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", None, "", flag_values=values, lock_config=True)
    flags.DEFINE_string("workdir", None, "", flag_values=values)
    return cli.parse(["main", *args], values)


def test_unknown_fields_name_the_override_and_the_suggestion():
    argv = ["main", "--config=c.py", "--config.unroll.stepz=3"]
    message = 'stepz. Did you mean "steps" instead?'
    assert cli.flag_error_line(argv, KeyError(message)) == (
        "--config.unroll.stepz=3: the config has no field 'unroll.stepz'; did you mean \"steps\"?"
    )
    assert cli.flag_error_line(argv, flags.UnrecognizedFlagError("config.nope")) == (
        "the config has no field 'nope'"
    )


def test_a_config_file_that_raises_is_named_with_its_error(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no data here')\n")
    _, problem = _parse(f"--config={broken}")
    assert problem == f"--config={broken}: the file fails to import (RuntimeError: no data here)"


@pytest.mark.parametrize(
    "outcome, code, said",
    [
        (Outcome(True, None, {}), 0, []),
        (Outcome(True, None, {"seed=1": 40}), 3, ["diverged: seed=1 went non-finite at step 40"]),
        (Outcome(False, signal.SIGTERM, {}), 143, ["stopped by SIGTERM after saving"]),
        (Outcome(False, signal.SIGINT, {"a": 0}), 130, ["diverged: a", "stopped by SIGINT"]),
    ],
)
def test_outcomes_map_to_exit_codes(outcome, code, said):
    got, lines = cli.outcome_report(outcome)
    assert got == code and len(lines) == len(said)
    for line, start in zip(lines, said, strict=True):
        assert line.startswith(start)


def test_importing_the_parts_does_not_load_plotting_checkpointing_or_logging():
    script = (
        "import sys\n"
        "import gan_jax.parts.objectives, gan_jax.parts.models, gan_jax.parts.data, gan_jax.step.train\n"
        "heavy = ('matplotlib', 'orbax', 'tensorboardX', 'rliable', 'tqdm')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


def test_every_command_module_imports_into_one_process():
    """absl flags are global: commands define theirs only when run, so importing several of
    them (as a test session or a notebook does) never clashes."""
    import importlib

    for name in (
        "main",
        "results.compare",
        "results.spectrum",
        "results.export",
        "metrics.classifier",
    ):
        importlib.import_module(f"gan_jax.{name}")
