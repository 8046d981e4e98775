#!/usr/bin/env bash
# The main job on the bundled example, end to end on this machine:
#  1. set up .venv; validate and render specs/ai-platform.yaml into out/ai-platform/;
#  2. build the engine toolchain if missing (a local Kubernetes control plane and the Pulumi
#     engine, from Go modules; the first build is long, later runs use the cache);
#  3. start the control plane and a dev OpenBao, `secureai apply --yes` the example to them
#     through the real Pulumi engine, `secureai preview --expect-no-changes` (the cluster holds what the spec says),
#     `secureai destroy --yes`, and stop the servers (tests/engine/example.py says what it
#     changes in a temporary copy of the spec for the local cluster, and why).
# SECUREAI_EXAMPLE_RENDER_ONLY=1 stops after step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/secureai validate specs/ai-platform.yaml
# --quiet: validate above has shown the warnings already; render would repeat them.
.venv/bin/secureai render specs/ai-platform.yaml -o out/ai-platform --force --quiet
echo "manifests and Vault artefacts are in out/ai-platform/ (Secrets with placeholder values in secret-templates/)"
if [ "${SECUREAI_EXAMPLE_RENDER_ONLY:-}" = 1 ]; then exit 0; fi

started=$(date +%s)
nice -n 10 bash scripts/engine/build.sh
echo "engine toolchain ready after $(( $(date +%s) - started ))s"
cd tests && exec ../.venv/bin/python -m engine.example ../specs/ai-platform.yaml
