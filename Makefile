# The two commands a newcomer needs: `make run` and `make test`. Only python3 (3.11+) and make
# are required; everything else comes from requirements.lock into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format venv lock clean bench

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("users-items needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

run: venv ## Serve on http://127.0.0.1:8000 (SQLite by default; DATABASE_URL to change)
	$(BIN)/users-items serve --host $(HOST) --port $(PORT)

lint: venv ## ruff, mypy, import-linter, hadolint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

test: lint ## The lint steps, then the whole pytest suite
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv ## The service against plain FastAPI and bare Starlette over asyncpg, on PostgreSQL (needs wrk; ~25 min)
	@command -v wrk >/dev/null 2>&1 || { \
		echo "make bench needs wrk on PATH (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)" >&2; \
		exit 2; }
	$(BIN)/python bench/run.py

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: venv ## Re-resolve requirements.lock from pyproject.toml (needs network)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
