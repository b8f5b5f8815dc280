"""`python -m gan_jax.compare` and `python -m gan_jax.export`, the short forms the README teaches,
behave as the long forms (`gan_jax.results.compare` / `.export`): same refusal, same exit code."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(module, *args):
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "short, args",
    [
        ("compare", ["/nonexistent/sweep_a", "--workdir=/nonexistent/cmp"]),
        ("export", ["--workdir=/nonexistent/run", "--out=/nonexistent/x.npz"]),
    ],
)
def test_the_short_form_answers_as_the_long_form(short, args):
    code, lines = _run(f"gan_jax.{short}", *args)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, lines)
    assert "/nonexistent/" in lines[0]
    assert (code, lines) == _run(f"gan_jax.results.{short}", *args)
