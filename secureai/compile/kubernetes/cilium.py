"""With Cilium: CiliumNetworkPolicies (`cilium.io/v2`) instead of NetworkPolicies.

The same intent as compile/kubernetes/network.py, policy for policy and under the same names:
per default-deny namespace `default-deny` (an empty rule in each direction: the endpoints are
selected, so both directions deny, and the rule allows nothing) and `allow-dns`; per network
rule `<rule>-ingress` on the receiving pods and `<rule>-egress` on the sending pods; per Vault
reader `<workload>-to-vault`; `external-secrets-to-vault` for the operator. And, as with Calico,
one CiliumClusterwideNetworkPolicy `<project>-default-deny` that selects the pods of every
default-deny namespace and allows nothing: deleting a namespace's policies does not open it.

Cilium enforces NetworkPolicies too (the union of both kinds' allows), but this backend renders
none: one kind of policy is one source of truth to review, to diff and to analyse, and
NetworkPolicies could say less anyway (no domains; an `ipBlock` for the API server does not
match it under Cilium, which gives the API server an identity of its own, cilium/cilium#20550).

What differs from the NetworkPolicy form, and why:

- Endpoints are selected by labels plus `k8s:io.kubernetes.pod.namespace` (always written, so
  a selector never depends on the namespace the policy is in); namespaces chosen by labels
  through `k8s:io.cilium.k8s.namespace.labels.<key>`, with the namespace key required to exist
  (without it a namespaced policy would select its own namespace only).
- The API server is `toEntities: [kube-apiserver]` (`fromEntities` as a source): no
  addresses to keep up to date, so `kubernetes.apiServer` is optional here (its `port`, if
  given, limits the egress).
- A domain (`fqdn` peer) is `toFQDNs` (`matchName`, or `matchPattern` for `*.`): Cilium's DNS
  proxy learns the addresses a pod looked up. That needs the pod's lookups to pass the proxy,
  so `allow-dns` carries the L7 rule `dns: [{matchPattern: "*"}]` (every name may be looked up;
  only the FQDN rules decide where a connection may then go).
- Each kind of peer is its own egress rule (Cilium refuses `toFQDNs` beside other `to*`).
- CIDR peers are `toCIDRSet`/`fromCIDRSet`; cloud metadata endpoints go to `except` as in the
  NetworkPolicy form.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, resource
from secureai.compile.kubernetes.network import (
    DNS_PORT,
    Group,
    rule_groups,
    rule_ports,
    with_metadata_excluded,
)
from secureai.compile.kubernetes.vault_delivery import operator_needs_egress
from secureai.compile.kubernetes.vault_egress import isolated_readers
from secureai.compile.plan import Resource
from secureai.diagnostics import SpecPath
from secureai.model.labels import pod_selector
from secureai.model.spec import NetworkRule, Peer, Spec

CILIUM = "cilium.io/v2"
KIND = "CiliumNetworkPolicy"
CLUSTERWIDE = "CiliumClusterwideNetworkPolicy"
NAMESPACE_KEY = "k8s:io.kubernetes.pod.namespace"
NAMESPACE_LABELS = "k8s:io.cilium.k8s.namespace.labels."
API_SERVER = "kube-apiserver"
ANY_NAME: Manifest = {"dns": [{"matchPattern": "*"}]}


def compile_cilium(spec: Spec) -> list[Resource]:
    if spec.kubernetes.network_plugin != "cilium":
        return []
    out: list[Resource] = []
    isolated = [name for name, ns in spec.namespaces.items() if ns.network == "default-deny"]
    for name in isolated:
        out.append(_deny_all(name))
        out.append(_allow_dns(spec, name))
    if isolated:
        out.append(_backstop(spec, isolated))
    for name, rule in spec.network.items():
        out.extend(_ingress_policies(spec, name, rule))
        out.extend(_egress_policies(spec, name, rule))
    out.extend(_vault_egress(spec))
    return out


def _policy(name: str, namespace: str, spec: Manifest, source: SpecPath) -> Resource:
    return resource(CILIUM, KIND, name, namespace, {"spec": spec}, source)


def _deny_all(namespace: str) -> Resource:
    # An empty rule puts the direction in default deny (the endpoints are selected by a policy
    # with that section) and allows nothing; an empty list would leave the direction open.
    body: Manifest = {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}
    return _policy("default-deny", namespace, body, ("namespaces", namespace, "network"))


def _backstop(spec: Spec, namespaces: list[str]) -> Resource:
    """The default deny again, cluster-wide: a namespace editor who deletes the namespace's
    policies does not open it (as Calico's GlobalNetworkPolicy). It allows nothing, so every
    allowance stays in one namespaced policy (DNS in `allow-dns`: deleting that one fails
    closed); Cilium takes the union of what policies allow, so this changes no allowed traffic.
    Like Calico's, it does not stop an allow-all policy someone *adds* in the namespace."""
    body = {
        "spec": {
            "endpointSelector": {
                "matchExpressions": [{"key": NAMESPACE_KEY, "operator": "In", "values": namespaces}]
            },
            "ingress": [{}],
            "egress": [{}],
        }
    }
    return resource(
        CILIUM,
        CLUSTERWIDE,
        f"{spec.project}-default-deny",
        None,
        body,
        ("kubernetes", "networkPlugin"),
        logical="default-deny",
    )


def dns_egress(spec: Spec) -> list[Manifest]:
    dns = spec.kubernetes.cluster_dns
    ports = [{"ports": [{"port": str(DNS_PORT), "protocol": p} for p in ("UDP", "TCP")], "rules": ANY_NAME}]
    out: list[Manifest] = [
        {
            "toEndpoints": [{"matchLabels": {NAMESPACE_KEY: dns.namespace, **dns.pod_labels}}],
            "toPorts": ports,
        }
    ]
    if dns.cidrs:
        out.append({"toCIDRSet": [{"cidr": c} for c in dns.cidrs], "toPorts": ports})
    return out


def _allow_dns(spec: Spec, namespace: str) -> Resource:
    body = {"endpointSelector": {}, "egress": dns_egress(spec)}
    return _policy("allow-dns", namespace, body, ("namespaces", namespace, "network"))


def _endpoints(default_ns: str | None, peer: Peer, here: str) -> Manifest:
    """A pods/namespace/namespaceLabels peer as a Cilium endpoint selector."""
    labels: dict[str, str] = {}
    selector: Manifest = {}
    if peer.namespace_labels is not None:
        labels.update({NAMESPACE_LABELS + k: v for k, v in peer.namespace_labels.items()})
        selector["matchExpressions"] = [{"key": NAMESPACE_KEY, "operator": "Exists"}]
    else:
        labels[NAMESPACE_KEY] = str(peer.namespace or default_ns or here)
    labels.update(peer.pods or {})
    if labels:
        selector["matchLabels"] = labels
    return selector


def _port_rules(spec: Spec, rule: NetworkRule, targets: list[Peer]) -> list[Manifest]:
    ports = []
    for p in rule_ports(spec, rule, targets):
        entry: Manifest = {"port": str(p["port"]), "protocol": p["protocol"]}
        if "endPort" in p:
            entry["endPort"] = p["endPort"]
        ports.append(entry)
    return [{"ports": ports}] if ports else []


def _api_server_ports(spec: Spec) -> list[Manifest]:
    api = spec.kubernetes.api_server
    return [{"ports": [{"port": str(api.port), "protocol": "TCP"}]}] if api else []


def _cidr_set(peer: Peer) -> Manifest:
    assert peer.cidr is not None
    block: Manifest = {"cidr": peer.cidr}
    excepts = with_metadata_excluded(peer.cidr, list(peer.except_))
    if excepts:
        block["except"] = excepts
    return block


def _fqdn(name: str) -> Manifest:
    return {"matchPattern": name} if name.startswith("*.") else {"matchName": name}


def _rules(
    spec: Spec, default_ns: str | None, peers: list[Peer], here: str, direction: str, ports: list[Manifest]
) -> list[Manifest]:
    """One Cilium rule per kind of peer, each with the flow's ports."""
    side = "to" if direction == "egress" else "from"
    endpoints = [
        _endpoints(default_ns, p, here)
        for p in peers
        if p.cidr is None and not p.api_server and p.fqdn is None
    ]
    cidrs = [_cidr_set(p) for p in peers if p.cidr is not None]
    fqdns = [_fqdn(p.fqdn) for p in peers if p.fqdn is not None and direction == "egress"]
    out: list[Manifest] = []
    for key, items in ((f"{side}Endpoints", endpoints), (f"{side}CIDRSet", cidrs), ("toFQDNs", fqdns)):
        if items:
            out.append({key: items, **({"toPorts": ports} if ports else {})})
    if any(p.api_server for p in peers):
        # Egress on the API server's own port when the spec says it (as the NetworkPolicy form),
        # else on the rule's ports; as a source (ingress), on the rule's ports.
        api_ports = (_api_server_ports(spec) or ports) if direction == "egress" else ports
        out.append({f"{side}Entities": [API_SERVER], **({"toPorts": api_ports} if api_ports else {})})
    return out


def _rule_policy(
    rule: str, direction: str, group: Group, groups: list[Group], entries: list[Manifest]
) -> Resource:
    same_ns = [g for g in groups if g.namespace == group.namespace]
    name = f"{rule}-{direction}" if len(same_ns) == 1 else f"{rule}-{direction}-{group.index}"
    body = {"endpointSelector": _selector(group.labels), direction: entries}
    return _policy(name, group.namespace, body, ("network", rule))


def _selector(labels: dict[str, str]) -> Manifest:
    return {"matchLabels": dict(labels)} if labels else {}


def _ingress_policies(spec: Spec, name: str, rule: NetworkRule) -> list[Resource]:
    groups = rule_groups(spec, rule, rule.to)
    out: list[Resource] = []
    for group in groups:
        sources = [p for p in rule.from_ if p.fqdn is None]
        ports = _port_rules(spec, rule, [rule.to[group.index]])
        entries = _rules(spec, rule.namespace, sources, group.namespace, "ingress", ports)
        if not entries:
            continue  # never an empty rule list: it would not isolate, nor allow
        out.append(_rule_policy(name, "ingress", group, groups, entries))
    return out


def _egress_policies(spec: Spec, name: str, rule: NetworkRule) -> list[Resource]:
    groups = rule_groups(spec, rule, rule.from_)
    targets = [p for p in rule.to if not p.api_server]
    ports = _port_rules(spec, rule, targets or rule.to)
    out: list[Resource] = []
    for group in groups:
        entries = _rules(spec, rule.namespace, rule.to, group.namespace, "egress", ports)
        out.append(_rule_policy(name, "egress", group, groups, entries))
    return out


def _vault_egress(spec: Spec) -> list[Resource]:
    """Vault readers' and the External Secrets operator's egress to `vault.network`."""
    s = spec.vault
    if s is None or not s.network:
        return []
    ports = [{"ports": [{"port": str(s.port), "protocol": "TCP"}]}]
    out: list[Resource] = []
    for name in isolated_readers(spec):
        w = spec.workloads[name]
        rules = _vault_rules(spec, w.namespace, ports)
        if rules:  # an empty egress list would not apply at all: no policy says it plainly
            body = {"endpointSelector": {"matchLabels": pod_selector(name, w)}, "egress": rules}
            out.append(_policy(f"{name}-to-vault", w.namespace, body, ("workloads", name, "vault")))
    eso = s.external_secrets
    if eso is not None and operator_needs_egress(spec):
        rules = _vault_rules(spec, eso.namespace, ports)
        if rules:
            body = {"endpointSelector": {"matchLabels": dict(eso.pods)}, "egress": rules}
            out.append(
                _policy("external-secrets-to-vault", eso.namespace, body, ("vault", "externalSecrets"))
            )
    return out


def _vault_rules(spec: Spec, here: str, ports: list[Manifest]) -> list[Manifest]:
    """Vault peers seen from `here`: a pods peer without a namespace is in the reader's own
    namespace (as the NetworkPolicy form reads it); the API server is not a place for Vault."""
    assert spec.vault is not None
    peers = [p for p in spec.vault.network if not p.api_server]
    return _rules(spec, None, peers, here, "egress", ports)


__all__ = ["CILIUM", "CLUSTERWIDE", "KIND", "compile_cilium"]
