# Two commands do everything on a fresh machine (Python 3.11+ and the package
# registries): `make demo` and `make test`. Both create .venv if needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PIP_VERSION := 25.3

.PHONY: install demo test test-unit lint format bench airflow db-stop lock clean

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed, found " + sys.version' \
		|| { echo "set PYTHON=python3.11 (or newer)"; exit 1; }
	@echo "==> installing into $(VENV): pinned dependencies from constraints.txt (a few minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	@echo "==> mdm demo: embedded PostgreSQL, Airflow metadata, the daily chain end to end"
	$(BIN)/mdm demo

# Test files run on this many processes (pytest-xdist), each with its own embedded
# PostgreSQL; a file's tests stay on one process (its module fixtures are built once).
TEST_WORKERS ?= 2

test: $(INSTALLED)
	@echo "==> pytest: unit, DAG integrity and integration tests on $(TEST_WORKERS) processes (own embedded PostgreSQL each, stopped afterwards)"
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=20

test-unit: $(INSTALLED)
	@echo "==> pytest -m unit: the unit tests alone, no database (under a minute)"
	$(BIN)/python -m pytest -m unit

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(INSTALLED)
	@echo "==> benchmarks: results in bench-results/ (logs in .mdm/logs/)"
	$(BIN)/mdm bench

airflow: $(INSTALLED)
	$(BIN)/mdm airflow standalone

db-stop: $(INSTALLED)
	$(BIN)/mdm db stop

# Re-resolve the lock after changing dependencies in pyproject.toml.
lock: $(INSTALLED)
	{ echo "# Full lock of the environment: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with 'make lock' after changing pyproject.toml dependencies."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^mdm-platform'; } > constraints.txt

clean:
	-$(BIN)/mdm db stop
	rm -rf $(VENV) .mdm .pytest_cache .ruff_cache .mypy_cache
