#!/usr/bin/env bash
# Build the local Kubernetes control plane the engine tests run against, from Go modules:
# kube-apiserver, kube-controller-manager and kube-scheduler (engine/kube wrapper module),
# kwok and its stage files; etcd from Debian's etcd-server. Idempotent: only what is missing
# from the cache is built, each binary under $SECUREAI_ENGINE_CACHE/<name>-<version>/.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${SECUREAI_ENGINE_CACHE:-$HOME/.cache/secureai/engine}"
gocache="${SECUREAI_GO_CACHE:-$HOME/.cache/secureai/go}"
export GOMODCACHE="$gocache/mod" GOCACHE="$gocache/build" GOFLAGS="-buildvcs=false" CGO_ENABLED=0
export GOTOOLCHAIN=local
# shellcheck source=/dev/null
source "$repo/engine/kube/versions.env"
kwok_version="$KWOK_VERSION"
kube_version="$(awk '$1 == "k8s.io/kubernetes" {print $2} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' \
  "$repo/engine/kube/go.mod")"
if [[ ! "$kube_version" =~ ^v1\.[0-9]+\.[0-9]+$ ]]; then
  echo "build-kube: no k8s.io/kubernetes requirement in engine/kube/go.mod" >&2
  exit 2
fi
mkdir -p "$cache" "$GOMODCACHE" "$GOCACHE"

log() { printf '[build-kube %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# One build at a time: two concurrent builds of the same binary would each take 2 cores.
exec 9>"$cache/.build-kube.lock"
flock 9

if ! command -v go >/dev/null; then
  echo "build-kube: the go command is not installed (Go 1.24 or later is needed)" >&2
  exit 2
fi

build_kube() {
  local name="$1" dir="$cache/$1-$kube_version"
  if [[ -x "$dir/$name" ]]; then
    log "$name $kube_version: cached ($dir)"
    return
  fi
  mkdir -p "$dir"
  local minor="${kube_version#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w"
  # Without these the server reports v0.0.0 and clients (pulumi-kubernetes) treat it as ancient.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  log "$name $kube_version: building"
  local start=$SECONDS
  (cd "$repo/engine/kube" && go build -trimpath -ldflags "$ldflags" -o "$dir/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$dir/$name.tmp" "$dir/$name"
  log "$name $kube_version: built in $((SECONDS - start)) s"
}

build_kwok() {
  local dir="$cache/kwok-$kwok_version"
  if [[ -x "$dir/kwok" && -d "$dir/stage" ]]; then
    log "kwok $kwok_version: cached ($dir)"
    return
  fi
  mkdir -p "$dir"
  log "kwok $kwok_version: building"
  local start=$SECONDS
  (cd "$dir" && GOBIN="$dir/bin.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version")
  mv "$dir/bin.tmp/kwok" "$dir/kwok" && rmdir "$dir/bin.tmp"
  # The stage files ship in the module; copied, not committed.
  rm -rf "$dir/stage.tmp"
  cp -r "$GOMODCACHE/sigs.k8s.io/kwok@$kwok_version/kustomize/stage" "$dir/stage.tmp"
  chmod -R u+w "$dir/stage.tmp"
  mv "$dir/stage.tmp" "$dir/stage"
  log "kwok $kwok_version: built in $((SECONDS - start)) s"
}

install_etcd() {
  if command -v etcd >/dev/null; then
    log "etcd: $(etcd --version 2>/dev/null | head -1) ($(command -v etcd))"
    return
  fi
  if ! command -v apt-get >/dev/null || [[ $(id -u) -ne 0 ]]; then
    echo "build-kube: etcd is missing; install it (Debian: apt-get install etcd-server)" >&2
    exit 2
  fi
  log "etcd: apt-get install etcd-server"
  local start=$SECONDS
  apt-get update -qq
  # No init system in CI containers; keep the package from starting a system etcd.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.secureai
  local had_policy=0
  [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
  [[ $had_policy -eq 0 ]] && cp /usr/sbin/policy-rc.d.secureai /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  [[ $had_policy -eq 0 ]] && rm -f /usr/sbin/policy-rc.d
  rm -f /usr/sbin/policy-rc.d.secureai
  log "etcd: $(etcd --version | head -1), installed in $((SECONDS - start)) s"
}

main() {
  install_etcd
  build_kwok
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    build_kube "$name"
  done
  log "done: $cache"
}

main "$@"
exit
