#!/usr/bin/env bash
# Start or stop the engine tests' local control plane by hand:
#   bash scripts/engine/cluster.sh up [DIR]    (prints `export KUBECONFIG=...`; serves the operator
#                                              APIs the examples render, as engine.example does)
#   bash scripts/engine/cluster.sh down [DIR]
#   bash scripts/engine/cluster.sh check       (which binaries are missing)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || python=python3
cd "$repo/tests"
exec "$python" -m engine.harness "$@"
