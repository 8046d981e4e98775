#!/usr/bin/env bash
# Set up, then run the main job on the bundled example: validate and render specs/ai-platform.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/secureai validate specs/ai-platform.yaml
.venv/bin/secureai render specs/ai-platform.yaml -o out/ai-platform --force
echo "manifests and Vault artefacts are in out/ai-platform/"
