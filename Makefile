# `make run` trains the unrolled GAN on the ring; `make test` runs the suite.
# Both create .venv from pyproject.toml when it is missing (or older than pyproject.toml).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/unrolled.py
WORKDIR ?= runs/unrolled
# ACCEL=cuda or ACCEL=tpu also installs jax's accelerator build (the `.[cuda]` / `.[tpu]`
# extras): `make ACCEL=cuda test`, `make ACCEL=cuda run`. Empty: the CPU build, as before.
ACCEL ?=
ifneq ($(filter-out cuda tpu,$(ACCEL)),)
$(error ACCEL=$(ACCEL): use ACCEL=cuda, ACCEL=tpu or leave it empty)
endif
INSTALLED := $(VENV)/.installed$(if $(ACCEL),-$(ACCEL))

.PHONY: run test bench profile gpu gpu-dry-run gpu-wheels lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

$(VENV)/.installed-%: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev,$*]"
	touch $@

run: $(INSTALLED)
	$(PY) -m gan_jax.main --config=$(CONFIG) --workdir=$(WORKDIR)

test: $(INSTALLED)
	$(PY) -m pytest

bench: $(INSTALLED)
	$(PY) benchmarks/bench_step.py

# Where a step's time goes, per part (benchmarks/README.md): the MLP step, then the DCGAN step
# of the real-digit recipe and its eval.
profile: $(INSTALLED)
	$(PY) benchmarks/profile_step.py
	$(PY) benchmarks/profile_dcgan.py

# The GPU run (benchmarks/gpu.sh installs the CUDA build itself); gpu-dry-run: tiny, on CPU.
gpu:
	bash benchmarks/gpu.sh

gpu-dry-run: $(VENV)/.installed
	bash benchmarks/gpu.sh --dry-run

# The wheelhouse for a GPU machine without network (~1.7 MiB): the project and the pure-Python
# packages such a machine lacks; there: bash benchmarks/gpu.sh --wheels gpu_wheels
gpu-wheels: $(VENV)/.installed
	bash benchmarks/gpu_wheels.sh gpu_wheels

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) runs

# FID-Inception parity with pytorch-fid (tests/test_inception.py), in its own venv with torch:
# random weights, no download. ~4 min on 2 CPU cores.
PARITY_VENV := .venv-parity
$(PARITY_VENV)/.installed: pyproject.toml
	test -x $(PARITY_VENV)/bin/python || $(PYTHON) -m venv $(PARITY_VENV)
	$(PARITY_VENV)/bin/python -m pip install --quiet -e ".[dev,parity]"
	touch $@

.PHONY: parity
parity: $(PARITY_VENV)/.installed
	$(PARITY_VENV)/bin/python -m pytest tests/test_inception.py -q -s -rs
