"""With Calico: one cluster-wide GlobalNetworkPolicy that backs up the per-namespace default deny.

Why, when the Kubernetes NetworkPolicies already deny by default: those live in the namespaces
they protect, so anyone allowed to edit NetworkPolicies there can delete the deny-all and open
the namespace. A GlobalNetworkPolicy is cluster-scoped: only cluster administrators can change
it. It selects the spec's default-deny namespaces, allows DNS egress like `allow-dns`, and
denies everything else.

Calico evaluates policies by ascending `order`; Kubernetes NetworkPolicies sit at order 1000,
this one at 2000, so the flows the spec allows are accepted first and only what they leave
unmatched reaches the final deny. The result is the same traffic as without it, but the deny
survives the deletion of the namespace's NetworkPolicies. It does not survive an *added*
allow-all NetworkPolicy: that one is evaluated first, at order 1000, and accepts the traffic
before the deny is reached (stopping it would need the spec's flows repeated here as Calico
rules at an order below 1000). It adds nothing where the spec has no default-deny namespace,
so then it is not emitted.

`projectcalico.org/v3` is served by the Calico API server (installed by the Tigera operator);
selectors use `projectcalico.org/name`, the namespace-name label Calico sets on every version.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, resource
from secureai.compile.plan import Resource
from secureai.model.spec import Spec

CALICO = "projectcalico.org/v3"
K8S_POLICY_ORDER = 1000  # where Calico places Kubernetes NetworkPolicies
ORDER = 2000
NAME_LABEL = "projectcalico.org/name"


def compile_calico(spec: Spec) -> list[Resource]:
    if spec.kubernetes.network_plugin != "calico":
        return []
    namespaces = [n for n, ns in spec.namespaces.items() if ns.network == "default-deny"]
    if not namespaces:
        return []
    body = {
        "spec": {
            "order": ORDER,
            "namespaceSelector": f"{NAME_LABEL} in {{{', '.join(_q(n) for n in namespaces)}}}",
            "selector": "all()",
            "types": ["Ingress", "Egress"],
            "ingress": [{"action": "Deny"}],
            "egress": [*_dns_rules(spec), {"action": "Deny"}],
        }
    }
    return [
        resource(
            CALICO,
            "GlobalNetworkPolicy",
            f"{spec.project}-default-deny",
            None,
            body,
            ("kubernetes", "networkPlugin"),
            logical="default-deny",
        )
    ]


def _q(text: str) -> str:
    return f"'{text}'"


def _dns_rules(spec: Spec) -> list[Manifest]:
    dns = spec.kubernetes.cluster_dns
    pods = " && ".join(f"{k} == {_q(v)}" for k, v in dns.pod_labels.items()) or "all()"
    destinations: list[Manifest] = [
        {
            "namespaceSelector": f"{NAME_LABEL} == {_q(dns.namespace)}",
            "selector": pods,
            "ports": [53],
        }
    ]
    if dns.cidrs:
        destinations.append({"nets": list(dns.cidrs), "ports": [53]})
    return [
        {"action": "Allow", "protocol": proto, "destination": dest}
        for dest in destinations
        for proto in ("UDP", "TCP")
    ]
