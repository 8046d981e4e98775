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
  # pyproject's package-dir makes this editable install a plain path entry (fast start-up).
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi
# network-config-analyzer, the outside oracle of tests/test_posture_nca.py, in its own venv:
# its pinned dependencies would clash with ours.
if [ ! -x .venv-nca/bin/nca ]; then
  "$PYTHON" -m venv .venv-nca
  .venv-nca/bin/python -m pip install --quiet "network-config-analyzer>=2.1,<3"
fi
