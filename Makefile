# mamori — developer entry points. `make demo` runs mamori with demo data; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo serve test lint typecheck bench bench-intel bench-intel-quick bench-intel-full bench-traffic clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/mamori demo

serve: setup
	$(BIN)/mamori serve

test: setup
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench

typecheck: setup
	$(BIN)/mypy src

bench: bench-intel bench-traffic

bench-intel: setup
	$(BIN)/python bench/bench_intel.py

bench-intel-quick: setup
	$(BIN)/python bench/bench_intel.py --quick

bench-intel-full: setup
	$(BIN)/python bench/bench_intel.py --full-scale

bench-traffic: setup
	$(BIN)/python bench/bench_netflow_decode.py
	$(BIN)/python bench/bench_match.py
	$(BIN)/python bench/bench_beacon.py
	$(BIN)/python bench/bench_day.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
