"""Render a Plan's Kubernetes resources as YAML manifests, one file per object.

Files are `kubernetes/<NNN>-<kind>-[<namespace>-]<name>.yaml`. The numeric prefix is the apply
order, so `kubectl apply -f DIR/kubernetes` (which reads files in name order) creates what an
object needs before the object: 010 namespaces, 020 cluster-scoped policies, 030 service
accounts, 040 secrets, 050 RBAC, 060 network policies, 070 workloads and their Services,
080 anything else. YAML has sorted keys, so output is byte-stable. Secret values appear only
through `reveal`; without it each is its placeholder (`<secret:env:DB_PASSWORD>`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from secureai.compile.plan import Plan, Resource, SecretValue

Reveal = Callable[[SecretValue], str]

ORDER: Mapping[str, int] = {
    "Namespace": 10,
    "PodSecurityPolicy": 20,
    "ValidatingAdmissionPolicy": 20,
    "ValidatingAdmissionPolicyBinding": 20,
    "ServiceAccount": 30,
    "Secret": 40,
    "ConfigMap": 40,
    "Role": 50,
    "ClusterRole": 50,
    "RoleBinding": 50,
    "ClusterRoleBinding": 50,
    "NetworkPolicy": 60,
    "GlobalNetworkPolicy": 60,
    "Service": 70,
    "Pod": 70,
    "Deployment": 70,
    "StatefulSet": 70,
    "Job": 70,
    "CronJob": 70,
}
OTHER = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# libyaml's emitter writes the same text as the pure-Python one (a test holds it to that),
# many times faster: it matters at a thousand workloads.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def kubernetes_files(plan: Plan, reveal: Reveal | None = None) -> dict[str, str]:
    """Relative path -> YAML text for every Kubernetes resource, in path order."""
    files: dict[str, str] = {}
    for path, resource in _paths(plan):
        files[path] = to_yaml(manifest(resource, reveal))
    return dict(sorted(files.items()))


def stream(plan: Plan, reveal: Reveal | None = None) -> str:
    """All manifests as one multi-document YAML stream, in apply order (for `-o -`)."""
    return "".join(f"---\n{text}" for text in kubernetes_files(plan, reveal).values())


def manifest(resource: Resource, reveal: Reveal | None) -> Any:
    """The resource's manifest with each SecretValue revealed or replaced by its placeholder."""
    return _substitute(resource.properties, reveal)


def to_yaml(document: Any) -> str:
    """`yaml.safe_dump(sort_keys=True, default_flow_style=False)`, through libyaml if present."""
    return yaml.dump(document, Dumper=_DUMPER, sort_keys=True, default_flow_style=False)


def _substitute(value: Any, reveal: Reveal | None) -> Any:
    if isinstance(value, SecretValue):
        return value.placeholder() if reveal is None else reveal(value)
    if isinstance(value, Mapping):
        return {str(k): _substitute(v, reveal) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_substitute(v, reveal) for v in value]
    return value


def _paths(plan: Plan) -> list[tuple[str, Resource]]:
    """A file name per resource; a clash after sanitising gets a numeric suffix."""
    named = sorted(
        ((_file_stem(r), r.key, r) for r in plan.of_provider("kubernetes")),
        key=lambda t: (t[0], t[1]),
    )
    out: list[tuple[str, Resource]] = []
    seen: dict[str, int] = {}
    for stem, _, resource in named:
        count = seen.get(stem, 0) + 1
        seen[stem] = count
        suffix = "" if count == 1 else f"-{count}"
        out.append((f"kubernetes/{stem}{suffix}.yaml", resource))
    return out


def _file_stem(resource: Resource) -> str:
    props = resource.properties
    kind = str(props.get("kind", resource.type.rsplit(":", 1)[-1]))
    meta = props.get("metadata", {})
    parts = [f"{ORDER.get(kind, OTHER):03d}", kind.lower()]
    if meta.get("namespace"):
        parts.append(str(meta["namespace"]))
    parts.append(str(meta.get("name", resource.name)))
    return "-".join(_UNSAFE.sub("-", p).strip("-") for p in parts)
