# Two commands on a fresh machine (python3, pip and make only): `make demo` and `make test`.
# Each creates the virtual environment from the lock file on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: env demo serve-bg stop test lint fmt bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

AS_OF ?= 2026-10-31
PORT ?= 8000

# The main job on the embedded defaults: universe → indicators → champion model → shipped policies →
# pre-approval of every enterprise → the API server in the background, then one enterprise walked through
# estimate → apply → accept → draw → repay over HTTP. Every step resumes or is a no-op when already done.
demo: env
	$(BIN)/puhui synth
	$(BIN)/puhui summary
	$(BIN)/puhui indicators --as-of $(AS_OF)
	$(BIN)/puhui db upgrade
	$(BIN)/puhui model retrain --max-snapshots 6 --promote-if-no-champion
	$(BIN)/puhui policy bootstrap
	$(BIN)/puhui preapprove --as-of $(AS_OF)
	@$(MAKE) --no-print-directory serve-bg
	$(BIN)/puhui journey --base-url http://127.0.0.1:$(PORT)
	@echo
	@echo "The API runs at http://127.0.0.1:$(PORT)/docs (stop it: make stop). Walk another enterprise:"
	@echo "  $(BIN)/puhui journey --base-url http://127.0.0.1:$(PORT)"

# The API server in the background (log var/server.log, pid var/server.pid); waits until it answers.
serve-bg: env stop
	@mkdir -p var
	@nohup $(BIN)/puhui serve --port $(PORT) > var/server.log 2>&1 & echo $$! > var/server.pid
	@for i in $$(seq 1 60); do \
	  if $(BIN)/python -c "import httpx,sys; httpx.get('http://127.0.0.1:$(PORT)/v1/health').raise_for_status()" \
	     2>/dev/null; then echo "API server up on port $(PORT) (pid $$(cat var/server.pid))"; exit 0; fi; \
	  sleep 0.5; done; echo "the API server did not start: see var/server.log"; exit 1

stop:
	@if [ -f var/server.pid ]; then kill $$(cat var/server.pid) 2>/dev/null || true; rm -f var/server.pid; fi

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
