# Two commands on a fresh machine (python3, pip and make only): `make demo` and `make test`.
# Each creates the virtual environment from the lock file on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: env demo test lint fmt bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

demo: env
	$(BIN)/puhui synth
	$(BIN)/puhui summary
	$(BIN)/puhui indicators --as-of 2026-10-31

test: env
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -q

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: env
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: env
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Re-pin requirements.lock after changing dependencies in pyproject.toml.
lock: env
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements.lock -q

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
