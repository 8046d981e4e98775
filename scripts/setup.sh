#!/usr/bin/env bash
# Create .venv (once) and install secureai with its test extras into it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.secureai-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # compat: a plain path entry; the default editable finder costs every start ~8 ms.
  .venv/bin/python -m pip install --quiet -e ".[test]" --config-settings editable_mode=compat
  touch "$stamp"
fi
