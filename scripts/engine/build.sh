#!/usr/bin/env bash
# Build every engine binary the cache lacks: the local control plane (build-kube.sh), then the
# Pulumi CLI and providers (build-pulumi.sh, where present), and the operator CRDs the tests
# install (fetch-crds.sh). Idempotent; warm cache: seconds, no network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$SECONDS
bash "$here/build-kube.sh"
if [[ -f "$here/build-pulumi.sh" ]]; then
  bash "$here/build-pulumi.sh"
fi
bash "$here/fetch-crds.sh"
echo "[build] engine toolchain ready in $((SECONDS - start)) s"
