#!/usr/bin/env bash
# Fetch the operator CustomResourceDefinitions the engine tests install (engine/crds/versions.env)
# from the Go module proxy: `go mod download` of the operator's module, whose zip holds the
# repository's files, then a copy of its external-secrets.io CRDs into
# $SECUREAI_ENGINE_CACHE/external-secrets-crds-<version>/. Nothing fetched is committed.
# Idempotent: a warm cache makes no network call.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${SECUREAI_ENGINE_CACHE:-$HOME/.cache/secureai/engine}"
gocache="${SECUREAI_GO_CACHE:-$HOME/.cache/secureai/go}"
export GOMODCACHE="$gocache/mod" GOCACHE="$gocache/build" GOTOOLCHAIN=local GOFLAGS=-mod=mod
# The proxy only: the go command's default would fall back to cloning the repository.
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
# shellcheck source=/dev/null
source "$repo/engine/crds/versions.env"  # EXTERNAL_SECRETS_MODULE, _VERSION, _SUM

log() { printf '[fetch-crds %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

dir="$cache/external-secrets-crds-$EXTERNAL_SECRETS_VERSION"
if [[ -f "$dir/.complete" ]]; then
  log "external-secrets CRDs $EXTERNAL_SECRETS_VERSION: cached ($dir)"
  exit 0
fi
command -v go >/dev/null || { echo "fetch-crds: the go command is not installed" >&2; exit 2; }
mkdir -p "$cache" "$GOMODCACHE"
start=$SECONDS
# Outside any module, so no go.mod is read or written.
info="$(cd "$cache" && go mod download -json "$EXTERNAL_SECRETS_MODULE@$EXTERNAL_SECRETS_VERSION")"
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$info" | head -1; }
sum="$(field Sum)" module_dir="$(field Dir)"
if [[ "$sum" != "$EXTERNAL_SECRETS_SUM" ]]; then
  echo "fetch-crds: $EXTERNAL_SECRETS_MODULE@$EXTERNAL_SECRETS_VERSION has sum '$sum', engine/crds/versions.env pins $EXTERNAL_SECRETS_SUM" >&2
  exit 2
fi
bases="$module_dir/config/crds/bases"
shopt -s nullglob
crds=("$bases"/external-secrets.io_*.yaml)
if [[ ${#crds[@]} -eq 0 ]]; then
  echo "fetch-crds: no external-secrets.io CRDs in $bases" >&2
  exit 2
fi
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
cp "${crds[@]}" "$dir.tmp/"
chmod -R u+w "$dir.tmp"  # the module cache is read-only
printf '%s@%s %s\n' "$EXTERNAL_SECRETS_MODULE" "$EXTERNAL_SECRETS_VERSION" "$sum" > "$dir.tmp/.complete"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
log "external-secrets CRDs $EXTERNAL_SECRETS_VERSION: ${#crds[@]} fetched in $((SECONDS - start)) s ($dir)"
