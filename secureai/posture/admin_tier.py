"""The admin tier as a reviewer reads it: every AdminNetworkPolicy rule of the Plan, in the order a
CNI checks them (priority, then rule order), with what it selects and does.

Listed, not folded into the connections: with secureai's admin tier (compile/kubernetes/
admin_tier.py) the rules only Pass declared flows or Deny the rest between the spec's namespaces,
so the connections the namespace policies allow are exactly what passes (tests/test_admin_tier.py
checks that on every example); what the tier adds is that a namespace's own NetworkPolicy cannot
widen them across namespaces, which these rows show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secureai.compile.plan import Plan
from secureai.diagnostics import SpecPath
from secureai.posture.inventory import NAMESPACE_NAME, selector_text

KIND = "AdminNetworkPolicy"


@dataclass(frozen=True)
class AdminRule:
    policy: str
    priority: int
    subject: str
    direction: str  # ingress | egress
    action: str  # Allow | Deny | Pass
    peers: str
    ports: str
    origin: SpecPath = field(default=(), compare=False)


def _namespaces(selector: Mapping[str, Any]) -> str:
    labels = selector.get("matchLabels") or {}
    if set(labels) == {NAMESPACE_NAME} and not selector.get("matchExpressions"):
        return f"namespace {labels[NAMESPACE_NAME]}"
    exprs = selector.get("matchExpressions") or []
    if not labels and len(exprs) == 1 and exprs[0]["key"] == NAMESPACE_NAME and exprs[0]["operator"] == "In":
        return "namespaces " + ", ".join(exprs[0]["values"])
    return f"namespaces {selector_text(selector)}"


def _selection(item: Mapping[str, Any]) -> str:
    if "namespaces" in item:
        return "pods in " + _namespaces(item["namespaces"])
    if "pods" in item:
        pods = item["pods"]
        return f"pods {selector_text(pods['podSelector'])} in {_namespaces(pods['namespaceSelector'])}"
    if "networks" in item:
        return ", ".join(item["networks"])
    return "?"


def _ports(ports: list[Mapping[str, Any]] | None) -> str:
    if not ports:
        return "all"
    out = []
    for p in ports:
        if "portNumber" in p:
            out.append(f"{p['portNumber'].get('protocol', 'TCP')}/{p['portNumber']['port']}")
        elif "portRange" in p:
            r = p["portRange"]
            out.append(f"{r.get('protocol', 'TCP')}/{r['start']}-{r['end']}")
        else:
            out.append(f"named {p.get('namedPort')}")
    return ", ".join(out)


def admin_tier(plan: Plan) -> list[AdminRule]:
    rules: list[AdminRule] = []
    for r in plan.resources:
        m = r.properties
        if m.get("kind") != KIND or not str(m.get("apiVersion", "")).startswith("policy.networking.k8s.io/"):
            continue
        spec = m.get("spec", {})
        subject = _selection(spec.get("subject", {}))
        for direction, side in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                rules.append(
                    AdminRule(
                        m["metadata"]["name"],
                        int(spec.get("priority", 0)),
                        subject,
                        direction,
                        str(rule.get("action")),
                        "; ".join(_selection(p) for p in rule.get(side) or []),
                        _ports(rule.get("ports")),
                        r.source,
                    )
                )
    rules.sort(key=lambda x: x.priority)  # stable: rule order within a policy is kept
    return rules


__all__ = ["AdminRule", "admin_tier"]
