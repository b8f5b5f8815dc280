#!/usr/bin/env bash
# The wheelhouse for a GPU machine without network (benchmarks/gpu.sh --wheels DIR; `make
# gpu-wheels`): the project as a wheel, plus the pure-Python dependencies that such a machine
# lacks, at the versions this checkout's venv runs. Its Python already carries jax with its
# CUDA plugin, flax, optax, orbax-checkpoint, chex, numpy, scipy, pandas, scikit-learn,
# matplotlib, protobuf, absl-py, tqdm and pytest (benchmarks/README.md, "GPU run, offline");
# tensorflow-datasets is left out on purpose: nothing the GPU run does imports it.
#
#   bash benchmarks/gpu_wheels.sh [DIR]      # DIR: default gpu_wheels/
#
# Needs the package index once, here; the machine it is carried to needs none.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-gpu_wheels}"
PYTHON="${PYTHON:-.venv/bin/python}"
# The project's dependencies a bare GPU image lacks (pure Python: one wheel serves any Python 3).
MISSING=(ml_collections tensorboardX mlxtend)

pins=()
for dist in "${MISSING[@]}"; do
  version=$("$PYTHON" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$dist") || {
    echo "gpu_wheels.sh: $dist is not installed in $PYTHON; run 'make test' (or pip install -e .) first" >&2
    exit 2
  }
  pins+=("$dist==$version")
done
rm -rf "$DIR"
mkdir -p "$DIR"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$DIR" "${pins[@]}"
# The project itself, built from this checkout in a scratch copy (no build/ left behind here).
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
cp -r pyproject.toml README.md gan_jax "$SCRATCH"/
"$PYTHON" -m pip wheel --quiet --no-deps -w "$DIR" "$SCRATCH"
echo "wheelhouse $DIR: $(ls "$DIR" | wc -l) wheels, $(du -sk "$DIR" | cut -f1) KiB: $(ls "$DIR" | tr '\n' ' ')"
