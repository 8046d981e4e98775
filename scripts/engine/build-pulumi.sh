#!/usr/bin/env bash
# Build the real Pulumi engine from Go modules: the pulumi CLI and pulumi-resource-kubernetes,
# cached by version under ~/.cache/secureai/engine/<name>-<version>/. Idempotent: builds only
# what is missing. Prints one line per binary (built or cached, with the build time).
#
#   bash scripts/engine/build-pulumi.sh            # build what is missing
#   SECUREAI_ENGINE_CACHE=/path bash ...           # another cache root
#
# pulumi-resource-vault is not built: the module proxy does not serve
# github.com/pulumi/pulumi-vault/provider/v7 at any version (see README, Deploying).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
inputs=$repo/engine/pulumi  # wrapper go.mod/go.sum per binary, and versions.env
# shellcheck source=/dev/null
source "$inputs/versions.env"  # PULUMI_VERSION, KUBERNETES_PROVIDER_VERSION

cache=${SECUREAI_ENGINE_CACHE:-$HOME/.cache/secureai/engine}
gocache=${SECUREAI_GO_CACHE:-$HOME/.cache/secureai/go}
export GOMODCACHE=$gocache/mod GOCACHE=$gocache/build GOFLAGS=-mod=mod CGO_ENABLED=0
export GOTOOLCHAIN=local
mkdir -p "$cache" "$GOMODCACHE" "$GOCACHE"

command -v go >/dev/null || { echo "build-pulumi: no 'go' on PATH (Go 1.24+ is needed)" >&2; exit 2; }

# build_dir NAME VERSION: a fresh directory outside the repo with the committed wrapper go.mod/go.sum.
build_dir() {
  local dir=$cache/build/pulumi-$1-$2
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$inputs/$1/go.mod" "$dir/"
  if [ -f "$inputs/$1/go.sum" ]; then cp "$inputs/$1/go.sum" "$dir/"; fi
  echo "$dir"
}

# done_line NAME VERSION START: report, and keep go.sum for the wrapper when it was first made.
report() {
  local name=$1 version=$2 start=$3 dir=$4
  if [ ! -f "$inputs/$name/go.sum" ] && [ -f "$dir/go.sum" ]; then
    echo "build-pulumi: new $name/go.sum left in $dir/go.sum (commit it next to go.mod)"
  fi
  echo "build-pulumi: built $name $version in $(( $(date +%s) - start ))s"
}

build_cli() {
  local out=$cache/pulumi-$PULUMI_VERSION/pulumi
  if [ -x "$out" ]; then echo "build-pulumi: cached $out"; return; fi
  local start dir; start=$(date +%s); dir=$(build_dir cli "$PULUMI_VERSION")
  # Without the version linked in, `pulumi version` prints nothing and the Automation API refuses the CLI.
  (cd "$dir" && go build -trimpath -o "$dir/pulumi" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mkdir -p "$(dirname "$out")" && mv "$dir/pulumi" "$out"
  report cli "$PULUMI_VERSION" "$start" "$dir"
}

build_kubernetes() {
  local out=$cache/pulumi-resource-kubernetes-$KUBERNETES_PROVIDER_VERSION/pulumi-resource-kubernetes
  if [ -x "$out" ]; then echo "build-pulumi: cached $out"; return; fi
  local start dir mod; start=$(date +%s); dir=$(build_dir kubernetes "$KUBERNETES_PROVIDER_VERSION")
  mod=$(cd "$dir" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
  if [ -z "$mod" ] || [ ! -d "$mod" ]; then
    (cd "$dir" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
    mod=$(cd "$dir" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
  fi
  # The command package embeds schema-embed.json and terraform-mapping-embed.json, made by its
  # generator from the schema in the module; copy the package out of the read-only module cache.
  cp "$mod"/cmd/pulumi-resource-kubernetes/{main.go,generate.go,schema.json,terraform-mapping.json} "$dir/"
  chmod u+w "$dir"/*
  (cd "$dir" && VERSION=$KUBERNETES_PROVIDER_VERSION go run generate.go)
  rm "$dir/generate.go"
  (cd "$dir" && go build -trimpath -o "$dir/pulumi-resource-kubernetes" \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" .)
  mkdir -p "$(dirname "$out")" && mv "$dir/pulumi-resource-kubernetes" "$out"
  report kubernetes "$KUBERNETES_PROVIDER_VERSION" "$start" "$dir"
}

case "${1:-all}" in
  cli) build_cli ;;
  kubernetes) build_kubernetes ;;
  all) build_cli; build_kubernetes ;;
  *) echo "usage: build-pulumi.sh [all|cli|kubernetes]" >&2; exit 2 ;;
esac
