# `make run` trains the unrolled GAN on the ring; `make test` runs the suite.
# Both create .venv from pyproject.toml when it is missing (or older than pyproject.toml).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/unrolled.py
WORKDIR ?= runs/unrolled

.PHONY: run test bench lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(PY) -m gan_jax.main --config=$(CONFIG) --workdir=$(WORKDIR)

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_step.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) runs
