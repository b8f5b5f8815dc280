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
def test_the_short_form_runs_the_long_form(short, args):
    """The short module runs the long one as __main__ (so the flags are the long form's), and a
    bad command through it is the long form's one-line refusal with exit 2. (One subprocess:
    comparing against a second one running the long form cost ~5 s of imports per command.)"""
    with open(os.path.join(ROOT, "gan_jax", f"{short}.py")) as f:
        source = f.read()
    assert f'runpy.run_module("gan_jax.results.{short}", run_name="__main__"' in source
    code, lines = _run(f"gan_jax.{short}", *args)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, lines)
    assert "/nonexistent/" in lines[0]
