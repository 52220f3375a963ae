# Two commands do all set-up on a fresh clone: `make serve` and `make test`.
# Each creates or refreshes the environment first (uv, bootstrapped from PyPI into .tools).

PYTHON ?= python3
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_SYSTEM_CERTS := 1

.PHONY: env serve test lint typecheck check fmt clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"

env: $(UV)
	$(UV) sync --frozen --all-packages --quiet

serve: env
	$(UV) run --frozen --no-sync tidings serve $(ARGS)

test: env
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	$(UV) run --frozen --no-sync mypy
	$(UV) run --frozen --no-sync pytest $(PYTEST_ARGS)

lint: env
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .

typecheck: env
	$(UV) run --frozen --no-sync mypy

fmt: env
	$(UV) run --frozen --no-sync ruff format .
	$(UV) run --frozen --no-sync ruff check --fix .

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
