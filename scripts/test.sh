#!/usr/bin/env bash
# Set up, then run the whole test suite (OpenBao starts and stops inside the tests), the linters
# (ruff, import-linter layers) and the strict type check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q "$@"
.venv/bin/ruff check secureai tests benchmarks
.venv/bin/lint-imports
.venv/bin/mypy
