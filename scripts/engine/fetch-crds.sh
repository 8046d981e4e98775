#!/usr/bin/env bash
# Fetch the operator CustomResourceDefinitions the engine tests install (engine/crds/versions.env)
# from the Go module proxy: `go mod download` of each operator's module, whose zip holds the
# repository's files, its sum checked against the pinned one, then a copy of the CRD files into
# $SECUREAI_ENGINE_CACHE/<name>-crds-<version>/. Nothing fetched is committed. Idempotent: a
# warm cache makes no network call.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${SECUREAI_ENGINE_CACHE:-$HOME/.cache/secureai/engine}"
gocache="${SECUREAI_GO_CACHE:-$HOME/.cache/secureai/go}"
export GOMODCACHE="$gocache/mod" GOCACHE="$gocache/build" GOTOOLCHAIN=local GOFLAGS=-mod=mod
# The proxy only: the go command's default would fall back to cloning the repository.
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
# shellcheck source=/dev/null
source "$repo/engine/crds/versions.env"

log() { printf '[fetch-crds %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# fetch NAME MODULE VERSION SUM DIR-IN-MODULE GLOB
fetch() {
  local name="$1" module="$2" version="$3" want="$4" from="$5" glob="$6"
  local dir="$cache/$name-crds-$version"
  if [[ -f "$dir/.complete" ]]; then
    log "$name CRDs $version: cached ($dir)"
    return
  fi
  command -v go >/dev/null || { echo "fetch-crds: the go command is not installed" >&2; exit 2; }
  mkdir -p "$cache" "$GOMODCACHE"
  local start=$SECONDS info sum module_dir
  # Outside any module, so no go.mod is read or written.
  info="$(cd "$cache" && go mod download -json "$module@$version")"
  sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$info" | head -1)"
  module_dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$info" | head -1)"
  if [[ "$sum" != "$want" ]]; then
    echo "fetch-crds: $module@$version has sum '$sum', engine/crds/versions.env pins $want" >&2
    exit 2
  fi
  shopt -s nullglob
  # shellcheck disable=SC2206  # the glob is meant to expand
  local crds=("$module_dir/$from"/$glob)
  shopt -u nullglob
  if [[ ${#crds[@]} -eq 0 ]]; then
    echo "fetch-crds: no $glob in $module_dir/$from" >&2
    exit 2
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  cp "${crds[@]}" "$dir.tmp/"
  chmod -R u+w "$dir.tmp"  # the module cache is read-only
  printf '%s@%s %s\n' "$module" "$version" "$sum" > "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "$name CRDs $version: ${#crds[@]} fetched in $((SECONDS - start)) s ($dir)"
}

fetch external-secrets "$EXTERNAL_SECRETS_MODULE" "$EXTERNAL_SECRETS_VERSION" "$EXTERNAL_SECRETS_SUM" \
  config/crds/bases 'external-secrets.io_*.yaml'
fetch calico "$CALICO_MODULE" "$CALICO_VERSION" "$CALICO_SUM" \
  libcalico-go/config/crd crd.projectcalico.org_globalnetworkpolicies.yaml
fetch cilium "$CILIUM_MODULE" "$CILIUM_VERSION" "$CILIUM_SUM" \
  pkg/k8s/apis/cilium.io/client/crds/v2 'cilium*networkpolicies.yaml'
fetch network-policy-api "$NETWORK_POLICY_API_MODULE" "$NETWORK_POLICY_API_VERSION" "$NETWORK_POLICY_API_SUM" \
  config/crd/standard 'policy.networking.k8s.io_*.yaml'
fetch policy-controller "$POLICY_CONTROLLER_MODULE" "$POLICY_CONTROLLER_VERSION" "$POLICY_CONTROLLER_SUM" \
  config 300-clusterimagepolicy.yaml
