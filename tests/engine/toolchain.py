"""Where the engine binaries are, and which are missing (shared by every engine test).

Binaries live in `$SECUREAI_ENGINE_CACHE` (default `~/.cache/secureai/engine`) as
`<name>-<version>/<name>`, built by `scripts/engine/build.sh`; etcd comes from the system
(Debian's `etcd-server`). Versions are read from the committed build inputs, so a version bump
there is a cache miss here, never a stale binary. No pytest here: the harness runs by hand too.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KUBE_GO_MOD = REPO / "engine" / "kube" / "go.mod"
VERSIONS_ENV = REPO / "engine" / "kube" / "versions.env"
PULUMI_VERSIONS_ENV = REPO / "engine" / "pulumi" / "versions.env"
BUILD_HINT = "run `bash scripts/engine/build.sh` (builds what is missing, ~50 min cold on 2 cores)"


def engine_cache() -> Path:
    return Path(os.environ.get("SECUREAI_ENGINE_CACHE", "~/.cache/secureai/engine")).expanduser()


def engine_required() -> bool:
    """In CI a missing toolchain fails the engine tests instead of skipping them."""
    return os.environ.get("SECUREAI_REQUIRE_ENGINE") == "1" or os.environ.get("CI") == "true"


def kube_version() -> str:
    found = re.search(
        r"^\s*(?:require\s+)?k8s\.io/kubernetes (v[0-9.]+)\b", KUBE_GO_MOD.read_text(), re.MULTILINE
    )
    assert found, f"{KUBE_GO_MOD} has no `require k8s.io/kubernetes vX` line"
    return found.group(1)


def minor_of(version: str) -> str:
    """`1.34` of a server version such as `v1.34.4` (what a spec's kubernetes.version names)."""
    return ".".join(version.removeprefix("v").split(".")[:2])


def pinned(name: str, versions: Path = VERSIONS_ENV) -> str:
    """A version pinned in a versions.env file (default engine/kube/versions.env), e.g.
    pinned('KWOK_VERSION') or pinned('PULUMI_VERSION', PULUMI_VERSIONS_ENV)."""
    for line in versions.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    raise KeyError(f"{name} is not pinned in {versions}")


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    path: Path

    @property
    def present(self) -> bool:
        return self.path.is_file() and os.access(self.path, os.X_OK)

    def describe(self) -> str:
        return f"{self.name} {self.version} (expected at {self.path})"


def cached(name: str, version: str) -> Tool:
    """A binary built into the engine cache: `<cache>/<name>-<version>/<name>`."""
    return Tool(name, version, engine_cache() / f"{name}-{version}" / name)


def system(name: str, hint_version: str = "any") -> Tool:
    found = shutil.which(name)
    return Tool(name, hint_version, Path(found) if found else Path("/nonexistent") / name)


@dataclass(frozen=True)
class KubeToolchain:
    etcd: Tool
    apiserver: Tool
    controller_manager: Tool
    scheduler: Tool
    kwok: Tool

    @property
    def kwok_stages(self) -> Path:
        return self.kwok.path.parent / "stage"

    @property
    def version(self) -> str:
        return self.apiserver.version

    def missing(self) -> list[str]:
        tools = [self.etcd, self.apiserver, self.controller_manager, self.scheduler, self.kwok]
        gone = [t.describe() for t in tools if not t.present]
        if self.kwok.present and not self.kwok_stages.is_dir():
            gone.append(f"kwok stage files (expected in {self.kwok_stages})")
        return gone

    def missing_reason(self) -> str | None:
        tools = [self.etcd, self.apiserver, self.controller_manager, self.scheduler, self.kwok]
        gone = [f"{t.name} {t.version}" for t in tools if not t.present]
        if self.kwok.present and not self.kwok_stages.is_dir():
            gone.append("kwok stage files")
        if not gone:
            return None
        return f"engine toolchain incomplete: no {', '.join(gone)} in {engine_cache()} or PATH; {BUILD_HINT}"


def kube_toolchain() -> KubeToolchain:
    version = kube_version()
    return KubeToolchain(
        etcd=system("etcd", "3.4+ (Debian etcd-server)"),
        apiserver=cached("kube-apiserver", version),
        controller_manager=cached("kube-controller-manager", version),
        scheduler=cached("kube-scheduler", version),
        kwok=cached("kwok", pinned("KWOK_VERSION")),
    )


CRDS_VERSIONS_ENV = REPO / "engine" / "crds" / "versions.env"
# The CRDs of the kinds secureai renders: without them the fetched set is not the one needed.
EXTERNAL_SECRETS_NEEDED = (
    "external-secrets.io_externalsecrets.yaml",
    "external-secrets.io_secretstores.yaml",
)


@dataclass(frozen=True)
class OperatorCrds:
    """An operator's real CRDs, fetched from its Go module by scripts/engine/fetch-crds.sh into
    `<cache>/<name>-crds-<version>/` (a `.complete` marker written last)."""

    name: str
    version: str
    dir: Path
    needed: tuple[str, ...]

    def files(self) -> list[Path]:
        return sorted(self.dir.glob("*.yaml"))

    def missing_reason(self) -> str | None:
        gone = [n for n in self.needed if not (self.dir / n).is_file()]
        if (self.dir / ".complete").is_file() and not gone:
            return None
        return (
            f"engine inputs incomplete: no {self.name} CRDs {self.version} in {self.dir}"
            f"{' (' + ', '.join(gone) + ')' if gone else ''}; run `bash scripts/engine/build.sh`"
            " (fetches them from the Go module proxy in seconds)"
        )


def external_secrets_crds() -> OperatorCrds:
    version = pinned("EXTERNAL_SECRETS_VERSION", CRDS_VERSIONS_ENV)
    return OperatorCrds(
        "external-secrets",
        version,
        engine_cache() / f"external-secrets-crds-{version}",
        EXTERNAL_SECRETS_NEEDED,
    )


def cilium_crds() -> OperatorCrds:
    """Cilium's cilium.io/v2 CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy CRDs."""
    version = pinned("CILIUM_VERSION", CRDS_VERSIONS_ENV)
    return OperatorCrds(
        "cilium",
        version,
        engine_cache() / f"cilium-crds-{version}",
        ("ciliumnetworkpolicies.yaml", "ciliumclusterwidenetworkpolicies.yaml"),
    )


def network_policy_api_crds() -> OperatorCrds:
    """sigs.k8s.io network-policy-api's AdminNetworkPolicy and BaselineAdminNetworkPolicy CRDs
    (policy.networking.k8s.io/v1alpha1, standard channel)."""
    version = pinned("NETWORK_POLICY_API_VERSION", CRDS_VERSIONS_ENV)
    return OperatorCrds(
        "network-policy-api",
        version,
        engine_cache() / f"network-policy-api-crds-{version}",
        (
            "policy.networking.k8s.io_adminnetworkpolicies.yaml",
            "policy.networking.k8s.io_baselineadminnetworkpolicies.yaml",
        ),
    )


def calico_crds() -> OperatorCrds:
    """Calico's crd.projectcalico.org/v1 GlobalNetworkPolicy CRD (not projectcalico.org/v3: see
    engine/crds/versions.env): its `spec` schema is generated from v3's Go type."""
    version = pinned("CALICO_VERSION", CRDS_VERSIONS_ENV)
    return OperatorCrds(
        "calico",
        version,
        engine_cache() / f"calico-crds-{version}",
        ("crd.projectcalico.org_globalnetworkpolicies.yaml",),
    )


def policy_controller_crds() -> OperatorCrds:
    """Sigstore policy-controller's ClusterImagePolicy CRD (policy.sigstore.dev v1alpha1, v1beta1)."""
    version = pinned("POLICY_CONTROLLER_VERSION", CRDS_VERSIONS_ENV)
    return OperatorCrds(
        "policy-controller",
        version,
        engine_cache() / f"policy-controller-crds-{version}",
        ("300-clusterimagepolicy.yaml",),
    )
