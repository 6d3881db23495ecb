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

# Parallel test processes: three on 2 cores, with work stealing (an idle worker takes tests
# queued for another). The suite now waits as well as computes (subprocesses starting, stand-ins
# stalling on purpose, Chromium): on a clean clone of 2e05f69 at load 1.6-3.4, 838 tests took
# 70.2-80.7 s in two workers, 73.0 s in two with work stealing, 63.5 s in three, 66.3 s in four,
# and 57.4 s in three with work stealing (docs/benchmarks.md, section 13). Before issue 22, when
# the suite was CPU-bound, two were fastest (57-59 s; three 65 s, four 71 s). On a machine
# shared with other jobs (load 6-10), two cost ~10 s less CPU at about the same wall time
# (106.6 s against 116.6 s of CPU, mean of three runs each; section 13, round 2): there,
# `make test TEST_WORKERS=2`.
TEST_WORKERS ?= 3

# Bytecode is cached (in __pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set:
# without it every run compiles again each test module (with pytest's assertion rewriting) in
# each worker, and the project's modules in each `switchboard` subprocess a test starts.
test: $(STAMP) lint typecheck
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

bench: $(STAMP)
	$(BIN)/python bench/bench_wired_engine.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
