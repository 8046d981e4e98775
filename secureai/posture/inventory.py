"""What the compiled Plan deploys, indexed for posture questions: pods, namespaces, policies, grants.

Everything here is read from the Plan's manifests and Vault arguments, never from the spec's
wording, so the answer is about what would actually run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secureai.compile.plan import Plan, Resource

NAMESPACE_NAME = "kubernetes.io/metadata.name"
CALICO_NAME = "projectcalico.org/name"
NAME_LABEL_MINOR = 21  # the API server labels namespaces with their name from 1.21

POD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")

Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class Workload:
    """One workload's pods: every replica is alike, so one endpoint stands for all of them."""

    name: str
    namespace: str
    kind: str
    labels: Mapping[str, str]
    pod: Manifest
    resource: Resource
    annotations: Mapping[str, str] = field(default_factory=dict)
    # Who creates the pods when secureai does not (`managedBy`): their pod spec is unknown here.
    managed_by: str | None = None
    id: str = field(init=False)

    def __post_init__(self) -> None:
        # Looked up hundreds of thousands of times on large specs: computed once.
        object.__setattr__(self, "id", f"{self.namespace}/{self.name}")

    @property
    def account(self) -> str:
        return str(self.pod.get("serviceAccountName") or "default")

    def containers(self) -> list[Manifest]:
        return [*self.pod.get("initContainers", []), *self.pod.get("containers", [])]

    def container_ports(self) -> list[Manifest]:
        return [p for c in self.containers() for p in c.get("ports", [])]


def pod_metadata(manifest: Manifest) -> Manifest:
    """The metadata the pods of a manifest carry (labels, annotations)."""
    kind = manifest.get("kind")
    if kind == "Pod":
        return dict(manifest.get("metadata", {}))
    spec = manifest.get("spec", {})
    if kind == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return dict(spec.get("template", {}).get("metadata", {}))


def pod_template(manifest: Manifest) -> tuple[Mapping[str, str], Manifest] | None:
    """(pod labels, pod spec) of a manifest that makes pods, else None."""
    kind = manifest.get("kind")
    spec = manifest.get("spec", {})
    if kind == "Pod":
        return manifest.get("metadata", {}).get("labels", {}), spec
    if kind == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    elif kind not in POD_KINDS:
        return None
    template = spec.get("template", {})
    return template.get("metadata", {}).get("labels", {}), template.get("spec", {})


@dataclass
class Inventory:
    plan: Plan
    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, Mapping[str, str]] = field(default_factory=dict)
    secrets: list[Resource] = field(default_factory=list)
    config_maps: dict[tuple[str, str], Manifest] = field(default_factory=dict)
    services: list[Resource] = field(default_factory=list)
    external_secrets: list[Resource] = field(default_factory=list)
    secret_stores: dict[tuple[str, str], Manifest] = field(default_factory=dict)
    accounts: dict[tuple[str, str], Manifest] = field(default_factory=dict)
    network_policies: list[Resource] = field(default_factory=list)
    calico_policies: list[Resource] = field(default_factory=list)
    cilium_policies: list[Resource] = field(default_factory=list)
    roles: dict[tuple[str | None, str], Resource] = field(default_factory=dict)
    bindings: list[Resource] = field(default_factory=list)
    vault_secrets: list[Resource] = field(default_factory=list)
    vault_policies: dict[str, Resource] = field(default_factory=dict)
    vault_roles: list[Resource] = field(default_factory=list)

    @property
    def minor(self) -> int:
        return int(self.plan.kubernetes_version.split(".")[1])

    def namespace_labels(self, name: str, calico: bool = False) -> dict[str, str]:
        """Labels as selectors see them: the manifest's, plus the name labels the API server
        (1.21+) and Calico (always, in its own selectors) add."""
        labels = dict(self.namespaces.get(name, {}))
        if self.minor >= NAME_LABEL_MINOR:
            labels[NAMESPACE_NAME] = name
        if calico:
            labels[CALICO_NAME] = name
        return labels

    def declared(self, namespace: str) -> bool:
        return namespace in self.namespaces

    def token_mounted(self, w: Workload) -> bool:
        """The API token is mounted unless the pod says no or, if it says nothing, its account."""
        own = w.pod.get("automountServiceAccountToken")
        if own is not None:
            return bool(own)
        account = self.accounts.get((w.namespace, w.account), {})
        return account.get("automountServiceAccountToken", True) is not False

    def workload(self, name: str) -> Workload | None:
        for w in self.workloads:
            if w.name == name or w.id == name:
                return w
        return None


def inventory(plan: Plan) -> Inventory:
    inv = Inventory(plan)
    for r in plan.resources:
        if r.provider == "vault":
            _vault(inv, r)
            continue
        m = r.properties
        kind = m.get("kind")
        meta = m.get("metadata", {})
        ns = meta.get("namespace")
        if kind == "Namespace":
            inv.namespaces[meta["name"]] = dict(meta.get("labels", {}))
        elif kind == "Service":
            inv.services.append(r)
        elif kind == "ConfigMap":
            inv.config_maps[(str(ns), meta["name"])] = m
        elif kind == "ExternalSecret":
            inv.external_secrets.append(r)
        elif kind == "SecretStore":
            inv.secret_stores[(str(ns), meta["name"])] = m
        elif kind == "ServiceAccount":
            inv.accounts[(str(ns), meta["name"])] = m
        elif kind == "Secret":
            inv.secrets.append(r)
        elif kind == "NetworkPolicy" and m.get("apiVersion", "").startswith("networking.k8s.io"):
            inv.network_policies.append(r)
        elif m.get("apiVersion", "").startswith("projectcalico.org") and kind in (
            "GlobalNetworkPolicy",
            "NetworkPolicy",
        ):
            inv.calico_policies.append(r)
        elif kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy") and m.get(
            "apiVersion", ""
        ).startswith("cilium.io"):
            inv.cilium_policies.append(r)
        elif kind in ("Role", "ClusterRole"):
            inv.roles[(ns if kind == "Role" else None, meta["name"])] = r
        elif kind in ("RoleBinding", "ClusterRoleBinding"):
            inv.bindings.append(r)
        else:
            template = pod_template(m)
            if template is not None:
                labels, pod = template
                annotations = dict(pod_metadata(m).get("annotations", {}))
                inv.workloads.append(
                    Workload(meta["name"], str(ns), str(kind), dict(labels), pod, r, annotations)
                )
    for r in plan.unmanaged_pods:
        meta = r.properties["metadata"]
        inv.workloads.append(
            Workload(
                meta["name"],
                meta["namespace"],
                "Pod",
                dict(meta["labels"]),
                r.properties["spec"],
                r,
                managed_by=meta["annotations"]["secureai.dev/managed-by"],
            )
        )
    return inv


def _vault(inv: Inventory, r: Resource) -> None:
    if r.type.startswith("vault:kv/"):
        inv.vault_secrets.append(r)
    elif r.type == "vault:index/policy:Policy":
        inv.vault_policies[str(r.properties["name"])] = r
    elif r.type.startswith("vault:kubernetes/authBackendRole"):
        inv.vault_roles.append(r)


def selector_matches(selector: Manifest | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector; `{}` selects everything, an absent one is the caller's call."""
    if selector is None:
        return True
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_text(selector: Manifest | None) -> str:
    if not selector:
        return "all"
    parts = [f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items())]
    for expr in selector.get("matchExpressions", []):
        values = ",".join(expr.get("values", []))
        parts.append(
            f"{expr['key']} {expr['operator']} ({values})" if values else f"{expr['operator']} {expr['key']}"
        )
    return ", ".join(parts)
