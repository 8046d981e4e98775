#!/usr/bin/env bash
# Set up, then run the whole test suite (OpenBao starts and stops inside the tests) and the linters.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q "$@"
.venv/bin/ruff check secureai tests benchmarks
.venv/bin/lint-imports
