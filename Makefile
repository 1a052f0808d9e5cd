# Two commands matter: `make run` and `make test`. Both set up .venv on a fresh machine first.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= experiments/korea_2014.toml

# The first interpreter >= 3.12 that actually runs (pyenv shims answer "command not found" when not selected).
find_python = for c in python3.12 python3.13 python3 \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do \
  "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$c"; exit 0; }; \
done; exit 1

.PHONY: run test test-fast viz bench lint mutation assets clean help
help:
	@echo "make run    run the 2014 Korea experiment ($(CONFIG)), write results and figures"
	@echo "make test   run the whole test suite (unit, equivalence, validation, browser)"
	@echo "make viz    serve the interactive page on http://127.0.0.1:8765"
	@echo "make bench  print engine, scaling and small-run benchmarks (ratios measured side by side)"
	@echo "make lint   ruff check"
	@echo "make mutation  mutation testing of the kernels, events and observation (mutmut, ~10 min; docs/TESTING.md)"

$(STAMP): pyproject.toml
	@py=$$($(find_python)) || { echo "error: no Python >= 3.12 found (tried python3.13, python3.12, python3, pyenv versions). Install one, e.g. 'pyenv install 3.12'." >&2; exit 1; }; \
	 echo "using $$py"; [ -x $(BIN)/python ] || "$$py" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

assets: $(STAMP)
	@$(BIN)/sim assets

run: $(STAMP)
	$(BIN)/sim run $(CONFIG) --plot

test: $(STAMP) assets
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not validation and not browser"

viz: $(STAMP) assets
	$(BIN)/sim viz

bench: $(STAMP)
	$(BIN)/python benchmarks/engines.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/small_runs.py

lint: $(STAMP)
	$(BIN)/ruff check .

# A fresh mutmut run (its copy in mutants/ would keep stale copies of the modules it does not mutate), as plain
# Python, on one core; then the mutants per module and outcome, and those not killed (docs/TESTING.md).
mutation: $(STAMP)
	rm -rf mutants
	NUMBA_DISABLE_JIT=1 $(BIN)/mutmut run --max-children 1
	@$(BIN)/mutmut results --all true | sed -E 's/^ *sim\.([a-z_]+)\..*: /\1 /' | sort | uniq -c
	@$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache
