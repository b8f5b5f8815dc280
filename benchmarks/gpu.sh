#!/usr/bin/env bash
# The GPU run, in one go (< 8 minutes on one H200 once jax's CUDA build is installed):
#   1. installs the CUDA build of jax from the `.[cuda]` extra (skipped when jax already sees a
#      GPU, or with --no-install: the device machines of this project have no network, so
#      install there from a wheelhouse with PIP_FIND_LINKS=... PIP_NO_INDEX=1);
#   2. runs a GPU subset of the tests;
#   3. runs benchmarks/gpu_bench.py: the ring sweep at 1 / 8 / 64 / 512 vmapped runs (run-steps/s,
#      achieved FLOP/s vs the H200's peaks) and the DCGAN step with both dcgan.conv2d paths.
# Every number goes to one file: $DIR/gpu_results.md (DIR: --out, else $OUT, else ./gpu_out).
#
#   bash benchmarks/gpu.sh                 # on the GPU machine
#   bash benchmarks/gpu.sh --dry-run       # on CPU, tiny sizes, seconds: checks the script
#   PYTHON=/path/to/python bash benchmarks/gpu.sh --no-install
set -euo pipefail

cd "$(dirname "$0")/.."
DRY_RUN=0
INSTALL=1
DIR="${OUT:-gpu_out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1; INSTALL=0 ;;
    --no-install) INSTALL=0 ;;
    --out) DIR="$2"; shift ;;
    *) echo "gpu.sh: unknown argument $1 (use --dry-run, --no-install, --out DIR)" >&2; exit 2 ;;
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
