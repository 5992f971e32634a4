# The two everyday commands: `make demo` (run the platform with demo data) and `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_WORKERS ?= 2

.PHONY: demo test lint format env bench-renewal

env:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

demo: env
	$(UV) run voipdesk serve --demo

test: env
	$(UV) run pytest -n $(PYTEST_WORKERS) -q

lint: env
	$(UV) run ruff check src tests bench scripts
	$(UV) run ruff format --check src tests bench scripts
	$(UV) run mypy
	$(UV) run lint-imports

format: env
	$(UV) run ruff check --fix src tests bench scripts
	$(UV) run ruff format src tests bench scripts

bench-renewal: env
	$(UV) run python bench/renewal.py
