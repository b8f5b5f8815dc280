"""The benchmark tooling: the profile's attribution of ops to parts, and the GPU script's dry run.

No test here times anything; they check that the scripts compute what they claim.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import profile_step  # noqa: E402

STEP = "jit(train_chunk)/while/body/closed_call"


@pytest.mark.parametrize(
    "op_name, part",
    [
        (f"{STEP}/jvp(MLPGenerator)/MLP_0/Dense_0/dot_general", "G forward"),
        (f"{STEP}/transpose(jvp(MLPGenerator))/MLP_0/Dense_1/dot_general", "G backward"),
        (f"{STEP}/jit(_normal)/jit(_normal_real)/erf_inv", "latents z (threefry normal)"),
        (f"{STEP}/data/jit(_normal)/jit(_normal_real)/mul", "real batch (ring sample)"),
        (f"{STEP}/jit(_threefry_split)/_keys/while", "keys (split, fold_in)"),
        (f"{STEP}/jvp(d_update)/jvp(MLPDiscriminator)/tanh", "D phase: D loss fwd + grad"),
        (f"{STEP}/d_update/d_opt/mul", "D phase: Adam"),
        (
            f"{STEP}/jvp(unroll)/while/body/closed_call/d_update/jvp(MLPDiscriminator)/tanh",
            "unroll: D loss fwd + grad",
        ),
        (f"{STEP}/jvp(unroll)/while/body/closed_call/d_update/d_opt/sqrt", "unroll: Adam"),
        (
            f"{STEP}/transpose(jvp(unroll))/while/body/closed_call/d_update/d_opt/mul",
            "unroll: 2nd-order backward",
        ),
        (f"{STEP}/jvp(MLPDiscriminator)/Dense_0/dot_general", "G loss through D (fwd + bwd)"),
        (f"{STEP}/g_opt/add", "G Adam"),
        (f"{STEP}/d_update/jit(norm)/sqrt", "diagnostics (grad norms, update cosines)"),
        (f"{STEP}/freeze/reduce_and", "divergence check (isfinite, select)"),
        ("jit(train_chunk)/while", "scan bookkeeping (loop, copies, metric stacking)"),
        ("", "scan bookkeeping (loop, copies, metric stacking)"),
    ],
)
def test_ops_are_attributed_to_their_part(op_name, part):
    assert profile_step.part_of(op_name) == part
    assert part in profile_step.PARTS


def test_instructions_without_metadata_count_with_their_producer():
    hlo = "\n".join(
        [
            "ENTRY %main {",
            "  %fusion.1 = f32[4]{0} fusion(%p), kind=kLoop, calls=%f, "
            'metadata={op_name="jit(f)/g_opt/add"}',
            "  %copy.2 = f32[4]{0} copy(%fusion.1)",
            "  ROOT %copy.3 = f32[4]{0} copy(%copy.2)",
            "}",
        ]
    )
    names = profile_step.instruction_op_names(hlo)
    assert names == {
        "fusion.1": "jit(f)/g_opt/add",
        "copy.2": "jit(f)/g_opt/add",
        "copy.3": "jit(f)/g_opt/add",
    }


def test_self_times_subtract_nested_events_per_thread():
    events = [
        {"ph": "X", "tid": 1, "ts": 0, "dur": 10, "name": "while.1"},
        {"ph": "X", "tid": 1, "ts": 1, "dur": 3, "name": "dot.1"},
        {"ph": "X", "tid": 1, "ts": 5, "dur": 4, "name": "dot.1"},
        {"ph": "X", "tid": 2, "ts": 2, "dur": 6, "name": "dot.1"},  # another thread, at once
        {"ph": "i", "tid": 1, "ts": 3, "name": "marker"},
    ]
    assert profile_step.self_times(events) == {"while.1": 3, "dot.1": 13}
    assert profile_step.breakdown({"dot.1": "x/g_opt/mul"}, {"dot.1": 13, "other": 5}) == {
        "G Adam": 13
    }


# Distributions a bare GPU image lacks (benchmarks/gpu_wheels.sh's MISSING, plus the ones no GPU
# run needs), and the project's own editable install: hidden from the "machine" venv below.
_NOT_ON_THE_GPU_MACHINE = (
    "ml_collections",
    "tensorboardx",
    "mlxtend",
    "tensorflow_datasets",
    "tensorflow_metadata",
    "rliable",
    "arch",
    "gan_jax",
    "__editable__",
)


def _bare_gpu_python(root):
    """A fresh venv whose packages are this venv's but for `_NOT_ON_THE_GPU_MACHINE`: the GPU
    machine's Python (jax, flax, optax, orbax, numpy, scipy, pytest, pip ...) without network."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    machine = root / "machine_site"
    machine.mkdir()
    site = next(p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p))
    for name in os.listdir(site):
        if not name.lower().replace("-", "_").startswith(_NOT_ON_THE_GPU_MACHINE):
            if not name.endswith(".pth"):
                (machine / name).symlink_to(os.path.join(site, name))
    (venv_site,) = venv.glob("lib/python*/site-packages")
    (venv_site / "machine.pth").write_text(f"{machine}\n")
    return str(venv / "bin" / "python")


def test_gpu_script_offline_from_the_wheelhouse_alone_dry_run_writes_every_table(tmp_path):
    """`make gpu-wheels`, then `gpu.sh --wheels DIR --dry-run` in a venv that lacks the wheels'
    packages and reaches no index: it installs from the wheelhouse alone, every section of the
    results file is written (tiny sizes on the CPU, one row per table), and nothing imports
    tensorflow_datasets."""
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu_wheels.sh"), str(wheels)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert sorted(p.name.split("-")[0].lower() for p in wheels.glob("*.whl")) == [
        "gan_jax",
        "ml_collections",
        "mlxtend",
        "tensorboardx",
    ]
    python = _bare_gpu_python(tmp_path)
    assert subprocess.run([python, "-c", "import ml_collections"], capture_output=True).returncode
    no_index = {
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_FIND_LINKS": "",
        "PIP_CONFIG_FILE": os.devnull,
    }
    out = tmp_path / "out"
    result = subprocess.run(
        [
            "bash",
            os.path.join(ROOT, "benchmarks", "gpu.sh"),
            "--dry-run",
            "--wheels",
            str(wheels),
            "--out",
            str(out),
        ],
        env={**os.environ, **no_index, "PYTHON": python},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    text = (out / "gpu_results.md").read_text()
    for section in (
        "installing from",
        "## Tests on the device",
        "exit 0",
        "| peak | TFLOP/s |",
        "### Ring sweep",
        "| 2 | vmap |",
        "### DCGAN step",
        "| matmul |",
    ):
        assert section in text, section
    assert (out / "site" / "ml_collections").is_dir()
    assert not (out / "site" / "tensorflow_datasets").exists()


def test_gpu_script_refuses_an_empty_wheelhouse_in_one_line(tmp_path):
    result = subprocess.run(
        [
            "bash",
            os.path.join(ROOT, "benchmarks", "gpu.sh"),
            "--dry-run",
            "--wheels",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"gpu.sh: {tmp_path} holds no wheels; build it where pip reaches an index: make gpu-wheels"
    ]
