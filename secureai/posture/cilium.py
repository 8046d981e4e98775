"""Cilium's policy semantics, as far as the posture needs them for CiliumNetworkPolicies.

An endpoint's labels are its pod's labels (source `k8s`), its namespace as
`io.kubernetes.pod.namespace` and its namespace's labels as `io.cilium.k8s.namespace.labels.<k>`.
A selector key may carry a source prefix (`k8s:`, `any:`); without one it matches any source.
A peer selector in a namespaced policy that does not name a namespace selects in the policy's
own namespace. Ports are strings (numbers or names); protocol `ANY` (or none) is TCP, UDP and
SCTP. A domain rule (`toFQDNs`) allows the addresses the pod looked up for a matching name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NAMESPACE_KEY = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."
FQDN_PEER = "domain "
API_SERVER_PEER = "the API server (kube-apiserver entity)"
_SOURCES = ("k8s:", "any:")


def endpoint_labels(pod: Mapping[str, str], namespace: str, ns_labels: Mapping[str, str]) -> dict[str, str]:
    return {
        **pod,
        NAMESPACE_KEY: namespace,
        **{NAMESPACE_LABELS + k: v for k, v in ns_labels.items()},
    }


def plain_key(key: str) -> str:
    for prefix in _SOURCES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def plain_selector(selector: Mapping[str, Any]) -> dict[str, Any]:
    """The selector with source prefixes dropped (every label the posture sees is a k8s one)."""
    out: dict[str, Any] = {}
    if "matchLabels" in selector:
        out["matchLabels"] = {plain_key(k): v for k, v in (selector["matchLabels"] or {}).items()}
    if "matchExpressions" in selector:
        out["matchExpressions"] = [
            {**e, "key": plain_key(str(e["key"]))} for e in selector["matchExpressions"] or []
        ]
    return out


def names_namespace(selector: Mapping[str, Any]) -> bool:
    """Whether a peer selector says which namespaces it is in (else: the policy's own)."""
    if NAMESPACE_KEY in selector.get("matchLabels", {}):
        return True
    return any(e.get("key") == NAMESPACE_KEY for e in selector.get("matchExpressions", []))


def k8s_style_ports(to_ports: list[Mapping[str, Any]] | None) -> list[Mapping[str, Any]] | None:
    """`toPorts` as NetworkPolicy-style port entries; None: every port."""
    if not to_ports:
        return None
    out: list[Mapping[str, Any]] = []
    for item in to_ports:
        ports = item.get("ports") or []
        if not ports:
            return None
        for p in ports:
            proto = str(p.get("protocol") or "ANY")
            protos = ("TCP", "UDP", "SCTP") if proto == "ANY" else (proto,)
            raw = str(p.get("port", "0"))
            port: int | str | None = int(raw) if raw.isdigit() else raw
            if port == 0:
                port = None
            for q in protos:
                entry: dict[str, Any] = {"protocol": q, "port": port}
                if p.get("endPort"):
                    entry["endPort"] = int(p["endPort"])
                out.append(entry)
    return out


def fqdn_regex(pattern: str) -> re.Pattern[str]:
    """Cilium's matchPattern (pkg/fqdn/matchpattern): `*` is any DNS characters within one label."""
    text = pattern.strip().lower().rstrip(".") + "."
    if re.fullmatch(r"[*]+[.]?", pattern.strip()):
        return re.compile(r"(^([-a-zA-Z0-9_]+[.])+$)|(^[.]$)")
    escaped = text.replace(".", "[.]")
    escaped = re.sub(r"^[*]{2,}\[\.\]", r"([-a-zA-Z0-9_]+([.][-a-zA-Z0-9_]+){0,})[.]", escaped)
    escaped = re.sub(r"[*]+", "[-a-zA-Z0-9_]*", escaped)
    return re.compile("^" + escaped + "$")


def fqdn_covers(wanted: str, allowed: str) -> bool:
    """Whether every name `allowed` (a name or a `*.` pattern) matches is one `wanted` allows."""
    if wanted == allowed:
        return True
    if allowed.startswith("*"):
        return False  # a wildcard is covered only by itself
    return bool(fqdn_regex(wanted).match(allowed.lower().rstrip(".") + "."))
