# Everything runs from a local virtualenv that these targets create on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/switchboard demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Parallel test processes: two, one per core here. Measured on a quiet machine before issue 22
# (when two took 57-59 s): one process 114 s, three 65 s, four 71 s; the suite is CPU-bound
# (its CPU time is about twice its wall time in two), so more workers only compete for the
# cores (docs/benchmarks.md, section 13).
TEST_WORKERS ?= 2

# Bytecode is cached (in __pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set:
# without it every run compiles again each test module (with pytest's assertion rewriting) in
# each worker, and the project's modules in each `switchboard` subprocess a test starts.
test: $(STAMP) lint typecheck
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python bench/bench_wired_engine.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
