#!/usr/bin/env bash
# The GPU run, in one go (< 8 minutes on one H200 once jax's CUDA build is installed):
#   1. installs what the run needs: with --wheels DIR (a machine without network whose Python
#      already has jax with a CUDA plugin, flax, optax and orbax), the project and the few
#      pure-Python packages that machine lacks from the wheelhouse DIR alone (`make gpu-wheels`
#      builds it; --no-deps, no index, into DIR/site on PYTHONPATH: the machine's own packages
#      are left as they are); else the CUDA build of jax from the `.[cuda]` extra (skipped when
#      jax already sees a GPU, or with --no-install);
#   2. runs a GPU subset of the tests;
#   3. runs benchmarks/gpu_bench.py: the ring sweep at 1 / 8 / 64 / 512 vmapped runs (run-steps/s,
#      achieved FLOP/s vs the H200's peaks) and the DCGAN step with both dcgan.conv2d paths.
# Every number goes to one file: $DIR/gpu_results.md (DIR: --out, else $OUT, else ./gpu_out).
#
#   bash benchmarks/gpu.sh                 # on the GPU machine
#   bash benchmarks/gpu.sh --wheels gpu_wheels   # on a GPU machine without network
#   bash benchmarks/gpu.sh --dry-run       # on CPU, tiny sizes, seconds: checks the script
#   PYTHON=/path/to/python bash benchmarks/gpu.sh --no-install
set -euo pipefail

cd "$(dirname "$0")/.."
DRY_RUN=0
INSTALL=1
WHEELS=""
DIR="${OUT:-gpu_out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1; INSTALL=0 ;;
    --no-install) INSTALL=0 ;;
    --wheels) WHEELS="${2:?gpu.sh: --wheels needs a folder (make gpu-wheels builds gpu_wheels/)}"; shift ;;
    --out) DIR="$2"; shift ;;
    *) echo "gpu.sh: unknown argument $1 (use --dry-run, --no-install, --wheels DIR, --out DIR)" >&2
       exit 2 ;;
  esac
  shift
done
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$DIR"
RESULTS="$DIR/gpu_results.md"
: > "$RESULTS"
log() { echo "$*" | tee -a "$RESULTS"; }

log "# gan_jax GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
log ""
if command -v nvidia-smi > /dev/null; then
  log '```'
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$RESULTS"
  log '```'
fi

if [ -n "$WHEELS" ]; then
  if ! ls "$WHEELS"/*.whl > /dev/null 2>&1; then
    echo "gpu.sh: $WHEELS holds no wheels; build it where pip reaches an index: make gpu-wheels" >&2
    exit 2
  fi
  # No index, no dependency resolution: every wheel it needs is in $WHEELS or already installed.
  SITE="$(cd "$DIR" && pwd)/site"
  rm -rf "$SITE"
  log "installing from $WHEELS alone into $SITE: $(ls "$WHEELS" | tr '\n' ' ')"
  PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null "$PYTHON" -m pip install --quiet --no-index --no-deps \
    --no-compile --disable-pip-version-check --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
  INSTALL=0
  missing=$("$PYTHON" - <<'PY'
import importlib
needed = ["jax", "flax", "optax", "orbax.checkpoint", "ml_collections", "tensorboardX", "absl",
          "numpy", "scipy", "sklearn", "matplotlib", "tqdm", "pytest", "gan_jax.loop.run"]
missing = []
for name in needed:
    try:
        importlib.import_module(name)
    except ImportError as error:
        missing.append(f"{name} ({error})")
print("; ".join(missing))
PY
)
  if [ -n "$missing" ]; then
    log "gpu.sh: cannot import $missing; add the package to MISSING in benchmarks/gpu_wheels.sh"
    exit 2
  fi
fi

sees_gpu() { "$PYTHON" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' 2>/dev/null; }
if [ "$INSTALL" = 1 ] && ! sees_gpu; then
  log "installing the CUDA build: $PYTHON -m pip install -e .[dev,cuda]"
  "$PYTHON" -m pip install --quiet -e ".[dev,cuda]"
fi
if [ "$DRY_RUN" = 0 ] && ! sees_gpu; then
  log "jax does not see a GPU ($("$PYTHON" -c 'import jax; print(jax.devices())' 2>&1 | tail -1));"
  log "install the CUDA build (pip install -e \".[cuda]\") or run with --dry-run"
  exit 1
fi

log ""
log "## Tests on the device"
if [ "$DRY_RUN" = 1 ]; then
  TESTS=(tests/test_backend.py::test_no_gpu_warning_without_nvidia_smi)
  BENCH_ARGS=(--dry-run)
else
  # The step, the unroll, the DCGAN convolutions (both paths tested equal) and one whole run.
  TESTS=(tests/test_backend.py tests/test_unroll.py tests/test_train.py tests/test_dcgan.py
         tests/test_run.py)
  BENCH_ARGS=()
fi
set +e
TEST_START=$SECONDS
# One process (-n 0): xdist workers would each preallocate most of the GPU's memory.
timeout 180 "$PYTHON" -m pytest -q -n 0 -p no:cacheprovider "${TESTS[@]}" > "$DIR/tests.log" 2>&1
TEST_RC=$?
set -e
log "pytest ${TESTS[*]}: exit $TEST_RC in $((SECONDS - TEST_START)) s; $(tail -1 "$DIR/tests.log")"

log ""
"$PYTHON" benchmarks/gpu_bench.py --out "$RESULTS" "${BENCH_ARGS[@]}"
echo "all numbers: $RESULTS"
exit "$TEST_RC"
