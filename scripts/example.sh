#!/usr/bin/env bash
# Set up, then run the main job on the bundled example: validate and render specs/ai-platform.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/secureai validate specs/ai-platform.yaml
# --quiet: validate above has shown the warnings already; render would repeat them.
.venv/bin/secureai render specs/ai-platform.yaml -o out/ai-platform --force --quiet
echo "manifests and Vault artefacts are in out/ai-platform/ (Secrets with placeholder values in secret-templates/)"
