# Two commands do all set-up on a fresh clone: `make serve` and `make test`.
# Each creates or refreshes the environment first (uv, bootstrapped from PyPI into .tools).

PYTHON ?= python3
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_SYSTEM_CERTS := 1
# Installed packages get their bytecode at install time: where PYTHONDONTWRITEBYTECODE is set
# (as on the CI machines) every process would otherwise compile its imports from source,
# two seconds of CPU for each server a test starts.
export UV_COMPILE_BYTECODE := 1

.PHONY: env serve test bench lint typecheck check fmt clean

# Benchmarks: 1 = the sizes in issue 7; BENCH_SCALE=0.05 is a quick run.
BENCH_SCALE ?= 1
BENCH_ENGINES ?= sqlite,postgresql

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

# Runs every benchmark and failure run against real peers and rewrites bench/RESULTS.md.
bench: env
	$(UV) run --frozen --no-sync python -m bench.run --scale $(BENCH_SCALE) --engines $(BENCH_ENGINES)

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
