#!/usr/bin/env bash
# Set up, then run the linters (ruff, import-linter layers), the strict type check and the whole
# test suite (OpenBao starts and stops inside the tests). pytest runs last so that its summary
# is the closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check --quiet secureai tests benchmarks
.venv/bin/ruff format --check --quiet secureai tests benchmarks
.venv/bin/lint-imports --no-cache > /dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
