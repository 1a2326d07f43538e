# Quick start: `make run` and `make test`. Both bootstrap .venv with Python >= 3.10.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := gryt-core gryt-validators gryt-auth-docker gryt-auth-fly gryt-pypi gryt-oci gryt-npm gryt-gitlab gryt-github gryt-postgres gryt-python
PYTEST_ARGS ?=
# `make test-py310` runs the suite again on Python 3.10, the oldest supported, in .venv310 (made like .venv).
# The interpreter is PYTHON310 if set, else the first that works of python3.10 on PATH (a pyenv shim can be
# there without 3.10 being active) and pyenv's 3.10 builds; with none, the target says so and succeeds.
PYTHON310 ?=
PYENV_ROOT ?= $(HOME)/.pyenv
# `make test-newest` runs the suite on the newest CPython (>= 3.10) that works among python3.N on PATH
# (N = 10..19) and pyenv's builds, in a venv of its own, .venv3N (e.g. .venv313), made like .venv.

.PHONY: run test test-py310 test-newest lint bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("gryt needs Python >= 3.10, found " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)

# Each package's __init__.py holds its version (hatchling reads it into the metadata): a change reinstalls.
$(STAMP): $(BIN)/python requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml $(wildcard $(p)/src/*/__init__.py))
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e ./$(p))
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gryt run hello

test: $(STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

test-py310:
	@py=""; \
	candidates='$(PYTHON310)'; \
	[ -n "$$candidates" ] || candidates="python3.10 $$(ls -d $(PYENV_ROOT)/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV)"; \
	for c in $$candidates; do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ] && [ -n '$(PYTHON310)' ]; then echo "test-py310: PYTHON310=$(PYTHON310) is not a working Python 3.10" >&2; exit 1; fi; \
	if [ -z "$$py" ]; then \
	  echo "test-py310: skipped, no working python3.10 (set PYTHON310, or install one on PATH or under $(PYENV_ROOT)/versions)"; \
	  exit 0; \
	fi; \
	echo "test-py310: $$("$$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"; \
	$(MAKE) --no-print-directory test VENV=.venv310 PYTHON="$$py"

test-newest:
	@found=$$(for c in $$(seq -f 'python3.%g' 10 19) $$(ls -d $(PYENV_ROOT)/versions/3.*/bin/python3 2>/dev/null); do \
	  "$$c" -c 'import sys; sys.implementation.name == "cpython" and sys.version_info >= (3, 10) and print("%d.%d.%d" % sys.version_info[:3], sys.executable)' \
	    2>/dev/null; \
	done | sort -V | tail -n 1); \
	if [ -z "$$found" ]; then echo "test-newest: no working CPython >= 3.10 found" >&2; exit 1; fi; \
	version=$${found%% *}; py=$${found#* }; minor=$$(echo "$$version" | cut -d. -f2); \
	echo "test-newest: $$py $$version in .venv3$$minor"; \
	$(MAKE) --no-print-directory test VENV=.venv3$$minor PYTHON="$$py"

# mypy checks the sources, bench/ and tests/ in three runs (both bench/ and tests/ have a `startup`); tests
# may leave test functions unannotated. .pre-commit-config.yaml runs the same commands.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(foreach p,$(PACKAGES),$(p)/src) examples/plugins/gryt-webhook/src
	$(BIN)/mypy bench
	$(BIN)/mypy --allow-untyped-defs --allow-incomplete-defs tests

# `make dist` builds the wheel and sdist of every package into dist/ with the build backend installed in .venv
# (no isolated build environment, so nothing is downloaded), then checks them with `twine check`.
.PHONY: dist
dist: $(STAMP)
	rm -rf dist
	for p in $(PACKAGES); do $(BIN)/python -m build --quiet --no-isolation --outdir dist $$p || exit 1; done
	$(BIN)/twine check --strict dist/*

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

bench-smoke: $(STAMP)
	$(BIN)/python bench/run_all.py --smoke

clean:
	rm -rf $(VENV) .venv3[1-9]* .gryt .pytest_cache .mypy_cache .ruff_cache
