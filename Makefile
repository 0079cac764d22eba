# The two commands a newcomer needs:
#   make demo   set up .venv and run the flagship demo (CUBA network, built-in)
#   make test   set up .venv with the test extras and run the test suite
# and, for the documentation (HTML in docs/_build/html, from docs/*.md and the docstrings):
#   make docs
PYTHON ?= python3
VENV   ?= .venv
VENV310 ?= .venv310
PY     := $(VENV)/bin/python
OUT    ?= demo_output

.PHONY: demo test test-all fuzz bench lint docs clean

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install --quiet -e ".[dev,peers,dvs-peers,docs,dask,nwb,control]"
	touch $@

$(VENV)/.stamp-docs: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

# Lava 0.10 needs Python 3.10 and numpy 1.x: it gets its own environment, used by the Lava adapter
# through MEMR_SNN_PYTHON310.  Without a Python 3.10 the script says so and the Lava tests skip.
$(VENV310)/.stamp: tools/setup_lava_env.sh
	tools/setup_lava_env.sh $(VENV310)
	mkdir -p $(VENV310) && touch $@

# The Lava environment, unless the user points MEMR_SNN_PYTHON310 elsewhere.
LAVA_ENV = MEMR_SNN_PYTHON310="$${MEMR_SNN_PYTHON310:-$$([ -x $(VENV310)/bin/python ] && echo $(CURDIR)/$(VENV310)/bin/python)}"

demo: $(VENV)/.stamp-base
	$(PY) -m memr_snn run cuba --duration 1.0 --seed 1 --out $(OUT)

# One BLAS thread: the learning tests multiply small matrices, where BLAS threads only fight
# the other processes for the cores (measured: a BPTT run 2.2 s alone, 39.6 s with threads).
test: $(VENV)/.stamp-test $(VENV310)/.stamp
	$(LAVA_ENV) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest

test-all: $(VENV)/.stamp-test $(VENV310)/.stamp
	$(LAVA_ENV) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -m ""

# The fuzzers and crash harness of tests/reliability with 40x their CI example budget (randomised).
fuzz: $(VENV)/.stamp-test
	HYPOTHESIS_PROFILE=fuzz OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests/reliability -m "" -p no:cacheprovider

bench: $(VENV)/.stamp-test $(VENV310)/.stamp
	$(PY) -m memr_snn bench --peers brian2-cython brian2-cpp nest memr_snn-2t brian2-cpp-2t nest-2t
	$(PY) benchmarks/sparse_activity.py
	$(PY) benchmarks/devices.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/learning.py
	$(PY) benchmarks/dvs.py
	$(LAVA_ENV) $(PY) benchmarks/loihi.py
	OPENBLAS_NUM_THREADS=1 $(PY) -m memr_snn bench dvs-digits --out bench_output/dvs_digits
	OPENBLAS_NUM_THREADS=1 $(PY) -m memr_snn bench spoken-digits --out bench_output/spoken_digits

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .

# The documentation: the markdown pages of docs/ and the API reference generated from the docstrings,
# as HTML in docs/_build/html (open index.html).  Warnings are errors; the pages generated for the
# modules are made anew (no page left from a module since removed) and -E rereads every page, so
# that no warning hides behind a cached page.
docs: $(VENV)/.stamp-docs
	rm -rf docs/api/generated
	$(PY) -m sphinx -b html -W --keep-going -E -q -j auto docs docs/_build/html

clean:
	rm -rf $(VENV) $(VENV310) $(OUT) .pytest_cache docs/_build docs/api/generated
