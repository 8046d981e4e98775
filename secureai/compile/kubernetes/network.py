"""NetworkPolicies: default deny + DNS per namespace, and both ends of every allowed flow.

A spec network rule allows traffic from any `from` peer to any `to` peer on its ports. In a
default-deny namespace both directions are closed, so a flow needs two policies: ingress on
the receiving pods and egress on the sending pods. Each end is emitted only in namespaces this
spec declares as `default-deny`: in an `open` namespace everything is already allowed, and a
policy there would isolate the pods it selects, i.e. close what the user left open.
Peers the spec does not own (CIDRs, the API server, namespaces chosen by labels) get no
policy; they appear only as the other end.
"""

from __future__ import annotations

from dataclasses import dataclass

from secureai.compile.kubernetes.common import Manifest, match_name, resource
from secureai.compile.kubernetes.namespaces import namespace_labels
from secureai.compile.plan import Resource
from secureai.diagnostics import Diagnostic, warning
from secureai.model.labels import NAMESPACE_NAME, selected_pods
from secureai.model.spec import NetworkRule, Peer, PortSpec, Spec
from secureai.model.versions import NAME_LABEL_MINOR

NETPOL = "networking.k8s.io/v1"
DNS_PORT = 53


@dataclass(frozen=True)
class Group:
    """Pods in one declared namespace that one end of a rule selects."""

    index: int
    namespace: str
    labels: dict[str, str]


def compile_network(spec: Spec) -> list[Resource]:
    if spec.kubernetes.network_plugin == "cilium":
        return []  # compile/kubernetes/cilium.py: CiliumNetworkPolicies instead, one source of truth
    out: list[Resource] = []
    for name, ns in spec.namespaces.items():
        if ns.network == "default-deny":
            out.append(_deny_all(name))
            out.append(_allow_dns(spec, name))
    for name, rule in spec.network.items():
        out.extend(_ingress_policies(spec, name, rule))
        out.extend(_egress_policies(spec, name, rule))
    return out


def network_diagnostics(spec: Spec) -> list[Diagnostic]:
    """Before 1.21 namespaces lack the `kubernetes.io/metadata.name` label the selectors use."""
    if (
        spec.minor >= NAME_LABEL_MINOR
        or spec.kubernetes.network_plugin == "cilium"
        or not any(ns.network == "default-deny" for ns in spec.namespaces.values())
    ):
        return []
    return [
        warning(
            "SA253",
            f"Kubernetes {spec.kubernetes.version} does not label namespaces with "
            f"'{NAMESPACE_NAME}', which the generated NetworkPolicies select namespaces by "
            "(cluster DNS included)",
            ("kubernetes", "version"),
            hint=f"label namespaces yourself ({NAMESPACE_NAME}=<name>), or target 1.21 or later",
        )
    ]


def dns_peers(spec: Spec) -> list[Manifest]:
    dns = spec.kubernetes.cluster_dns
    peers: list[Manifest] = [
        {
            "namespaceSelector": match_name(dns.namespace),
            "podSelector": {"matchLabels": dict(dns.pod_labels)},
        }
    ]
    peers += [{"ipBlock": {"cidr": cidr}} for cidr in dns.cidrs]
    return peers


def _deny_all(namespace: str) -> Resource:
    body = {"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    return resource(
        NETPOL,
        "NetworkPolicy",
        "default-deny",
        namespace,
        body,
        ("namespaces", namespace, "network"),
    )


def _allow_dns(spec: Spec, namespace: str) -> Resource:
    """Without this, default-deny egress breaks every name lookup in the namespace."""
    ports = [{"protocol": proto, "port": DNS_PORT} for proto in ("UDP", "TCP")]
    body = {
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": dns_peers(spec), "ports": ports}],
        }
    }
    return resource(
        NETPOL, "NetworkPolicy", "allow-dns", namespace, body, ("namespaces", namespace, "network")
    )


def peer_namespace(peer: Peer, rule: NetworkRule) -> str | None:
    """The one namespace a pods/namespace peer is in; None for other kinds of peer."""
    if peer.namespace_labels is not None or (peer.pods is None and peer.namespace is None):
        return None
    return str(peer.namespace or rule.namespace or "")  # check/network.py: one of them is set


def rule_groups(spec: Spec, rule: NetworkRule, peers: list[Peer]) -> list[Group]:
    """The peers this spec owns and isolates (pods in its default-deny namespaces)."""
    out: list[Group] = []
    for index, peer in enumerate(peers):
        for ns in _declared_namespaces(spec, rule, peer):
            if spec.namespaces[ns].network == "default-deny":
                out.append(Group(index, ns, dict(peer.pods or {})))
    return out


def _declared_namespaces(spec: Spec, rule: NetworkRule, peer: Peer) -> list[str]:
    """The namespaces of this spec that a pods/namespace peer can be in (labels included)."""
    if peer.namespace_labels is None:
        ns = peer_namespace(peer, rule)
        return [ns] if ns is not None and ns in spec.namespaces else []
    wanted = peer.namespace_labels.items()
    return [name for name in spec.namespaces if wanted <= namespace_labels(spec, name).items()]


def _rule_policy(
    rule: str, direction: str, group: Group, groups: list[Group], entries: list[Manifest]
) -> Resource:
    """The `direction` ("ingress" or "egress") policy of network rule `rule` for one group of
    pods; numbered only where the rule makes more than one in the group's namespace."""
    same_ns = [g for g in groups if g.namespace == group.namespace]
    name = f"{rule}-{direction}" if len(same_ns) == 1 else f"{rule}-{direction}-{group.index}"
    body = {
        "spec": {
            "podSelector": _selector(group.labels),
            "policyTypes": [direction.capitalize()],
            direction: entries,
        }
    }
    return resource(NETPOL, "NetworkPolicy", name, group.namespace, body, ("network", rule))


def _selector(labels: dict[str, str]) -> Manifest:
    return {"matchLabels": labels} if labels else {}


def _ingress_policies(spec: Spec, name: str, rule: NetworkRule) -> list[Resource]:
    groups = rule_groups(spec, rule, rule.to)
    out: list[Resource] = []
    for group in groups:
        sources = [p for peer in rule.from_ for p in to_np_peers(spec, rule.namespace, peer, group.namespace)]
        if not sources:
            continue  # an empty `from` would allow every source: better no allowance at all
        entry: Manifest = {"from": sources}
        ports = rule_ports(spec, rule, [rule.to[group.index]])
        if ports:
            entry["ports"] = ports
        out.append(_rule_policy(name, "ingress", group, groups, [entry]))
    return out


def _egress_policies(spec: Spec, name: str, rule: NetworkRule) -> list[Resource]:
    groups = rule_groups(spec, rule, rule.from_)
    # A domain has no NetworkPolicy form (check SA153): left out, never widened to 0.0.0.0/0.
    targets = [p for p in rule.to if not p.api_server and p.fqdn is None]
    out: list[Resource] = []
    for group in groups:
        egress: list[Manifest] = []
        if targets:
            entry: Manifest = {
                "to": [p for t in targets for p in to_np_peers(spec, rule.namespace, t, group.namespace)]
            }
            ports = rule_ports(spec, rule, targets)
            if ports:
                entry["ports"] = ports
            egress.append(entry)
        if any(p.api_server for p in rule.to):
            egress.append(_api_server_egress(spec))
        out.append(_rule_policy(name, "egress", group, groups, egress))
    return out


def _api_server_egress(spec: Spec) -> Manifest:
    """To the API server on its own port: policies see endpoint addresses, not the Service IP."""
    api = spec.kubernetes.api_server
    assert api is not None  # check SA151 stops specs that name the API server without it
    return {
        "to": [{"ipBlock": {"cidr": c}} for c in api.cidrs],
        "ports": [{"protocol": "TCP", "port": api.port}],
    }


# Cloud instance metadata (AWS, GCP, Azure; AWS's IPv6 one): it hands out the node's cloud
# credentials to whoever asks, so a broad CIDR such as 0.0.0.0/0 does not include it.
METADATA_ENDPOINTS = ("169.254.169.254/32", "fd00:ec2::254/128")


def with_metadata_excluded(cidr: str, excepts: list[str]) -> list[str]:
    """`excepts` plus each metadata endpoint `cidr` contains, unless `cidr` *is* that endpoint
    (naming it is how a spec says it is wanted) or an except already covers it."""
    import ipaddress

    net = ipaddress.ip_network(cidr)
    out = list(excepts)
    for endpoint in METADATA_ENDPOINTS:
        meta = ipaddress.ip_network(endpoint)
        if meta.version != net.version or meta == net or not meta.subnet_of(net):  # type: ignore[arg-type]
            continue
        covered = any(
            meta.subnet_of(e)  # type: ignore[arg-type]
            for e in map(ipaddress.ip_network, excepts)
            if e.version == meta.version
        )
        if not covered:
            out.append(endpoint)
    return out


def to_np_peers(spec: Spec, default_ns: str | None, peer: Peer, here: str) -> list[Manifest]:
    """A spec peer as NetworkPolicy peers, seen from a policy in namespace `here`."""
    if peer.fqdn is not None:
        return []  # no NetworkPolicy form (check SA153); never widened to an ipBlock
    if peer.api_server:
        api = spec.kubernetes.api_server
        return [{"ipBlock": {"cidr": c}} for c in (api.cidrs if api else [])]
    if peer.cidr is not None:
        block: Manifest = {"cidr": peer.cidr}
        excepts = with_metadata_excluded(peer.cidr, list(peer.except_))
        if excepts:
            block["except"] = excepts
        return [{"ipBlock": block}]
    out: Manifest = {}
    if peer.namespace_labels is not None:
        out["namespaceSelector"] = _selector(dict(peer.namespace_labels))
    elif (peer.namespace or default_ns or here) != here:
        out["namespaceSelector"] = match_name(str(peer.namespace or default_ns))
    if peer.pods is not None or "namespaceSelector" not in out:
        out["podSelector"] = _selector(dict(peer.pods or {}))
    return [out]


def rule_ports(spec: Spec, rule: NetworkRule, targets: list[Peer]) -> list[Manifest]:
    return [_port(spec, rule, port, targets) for port in rule.ports]


def _port(spec: Spec, rule: NetworkRule, port: PortSpec, targets: list[Peer]) -> Manifest:
    """A port by name when the spec names it and every target pod declares that name.

    A named port follows the container if its number changes; but it matches nothing on a
    pod that lacks the name, so a name is used only where the spec proves it resolves.
    """
    if port.end_port is not None:
        # A range is numbers only; the model refuses a name with endPort.
        return {"protocol": port.protocol, "port": port.port, "endPort": port.end_port}
    named = port.name is not None and _all_declare(spec, rule, port, targets)
    return {"protocol": port.protocol, "port": port.name if named else port.port}


def _all_declare(spec: Spec, rule: NetworkRule, port: PortSpec, targets: list[Peer]) -> bool:
    selected = []
    for peer in targets:
        ns = peer_namespace(peer, rule)
        if ns is None or ns not in spec.namespaces:
            return False
        selected += [w for _, w in selected_pods(spec, ns, peer.pods or {})]
    wanted = (port.name, port.port, port.protocol)
    return bool(selected) and all(
        any((p.name, p.port, p.protocol) == wanted for p in w.ports) for w in selected
    )
