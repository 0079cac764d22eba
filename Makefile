# The two commands a newcomer needs:
#   make demo   set up .venv and run the flagship demo (CUBA network, built-in)
#   make test   set up .venv with the test extras and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= demo_output

.PHONY: demo test test-all bench lint clean

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install --quiet -e ".[dev,peers]"
	touch $@

demo: $(VENV)/.stamp-base
	$(PY) -m memr_snn run cuba --duration 1.0 --seed 1 --out $(OUT)

# One BLAS thread: the learning tests multiply small matrices, where BLAS threads only fight
# the other processes for the cores (measured: a BPTT run 2.2 s alone, 39.6 s with threads).
test: $(VENV)/.stamp-test
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest

test-all: $(VENV)/.stamp-test
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -m ""

bench: $(VENV)/.stamp-test
	$(PY) -m memr_snn bench
	$(PY) benchmarks/devices.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/learning.py

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
