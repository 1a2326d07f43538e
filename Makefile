# Quick start: `make run` and `make test`. Both bootstrap .venv with Python >= 3.10.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := gryt-core gryt-validators gryt-auth-docker gryt-auth-fly
PYTEST_ARGS ?=

.PHONY: run test lint bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("gryt needs Python >= 3.10, found " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e ./$(p))
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gryt run hello

test: $(STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(foreach p,$(PACKAGES),$(p)/src) examples/plugins/gryt-webhook/src

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

bench-smoke: $(STAMP)
	$(BIN)/python bench/run_all.py --smoke

clean:
	rm -rf $(VENV) .gryt .pytest_cache .mypy_cache .ruff_cache
