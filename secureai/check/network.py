"""Network rules make sense: pod selectors select something, API server peers are located."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.labels import selected_pods
from secureai.model.spec import Peer, PortSpec, Spec
from secureai.model.versions import END_PORT_MINOR


def selects_any(spec: Spec, namespace: str, labels: dict[str, str]) -> bool:
    """Whether some workload's pods (with the labels compile adds) carry all of `labels`."""
    return bool(selected_pods(spec, namespace, labels))


def check_network(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = [*_dns_namespace(spec)]
    for name, rule in spec.network.items():
        for side, peers in (("from", rule.from_), ("to", rule.to)):
            for index, peer in enumerate(peers):
                out.extend(_peer(spec, name, rule.namespace, peer, ("network", name, side, index)))
                out.extend(_fqdn(spec, f"network rule '{name}'", peer, ("network", name, side, index)))
        out.extend(_port_ranges(spec, name, rule.ports))
    for index, peer in enumerate(spec.vault.network if spec.vault else []):
        out.extend(_fqdn(spec, "vault.network", peer, ("vault", "network", index)))
    return out


FQDN_BACKENDS = ("cilium",)


def _fqdn(spec: Spec, where: str, peer: Peer, path: SpecPath) -> list[Diagnostic]:
    """A domain is enforced by a DNS-aware dataplane (Cilium's DNS proxy learns the addresses
    the pod looked up); a NetworkPolicy has only ipBlocks, and widening to 0.0.0.0/0 would
    allow every destination, so on other backends the rule is refused, not approximated."""
    if peer.fqdn is None:
        return []
    if path[0] == "network" and path[2] == "from":
        return [
            error(
                "SA153",
                f"{where}: a domain can only be a destination ('to'), not a source: "
                f"'{peer.fqdn}' says nothing about who connects in",
                (*path, "fqdn"),
                hint="name sources by pods, namespace or cidr",
            )
        ]
    plugin = spec.kubernetes.network_plugin
    if plugin in FQDN_BACKENDS:
        return []
    return [
        error(
            "SA153",
            f"{where}: domain '{peer.fqdn}' cannot be enforced by the {plugin} network backend "
            "(NetworkPolicies match addresses, not names)",
            (*path, "fqdn"),
            hint="set kubernetes.networkPlugin: cilium (CiliumNetworkPolicy toFQDNs), "
            "or name the destination by cidr",
        )
    ]


def _port_ranges(spec: Spec, name: str, ports: list[PortSpec]) -> list[Diagnostic]:
    """Before 1.22 the API server drops `endPort`, and the rule would allow one port only."""
    if spec.minor >= END_PORT_MINOR:
        return []
    return [
        error(
            "SA179",
            f"network rule '{name}' uses a port range (endPort), which Kubernetes "
            f"{spec.kubernetes.version} does not have (from 1.{END_PORT_MINOR})",
            ("network", name, "ports", i, "endPort"),
            hint="list the ports one by one, or target a newer version",
        )
        for i, port in enumerate(ports)
        if port.end_port is not None
    ]


def _dns_namespace(spec: Spec) -> list[Diagnostic]:
    """Default deny where cluster DNS runs would cut name resolution for the whole cluster."""
    dns = spec.kubernetes.cluster_dns.namespace
    declared = spec.namespaces.get(dns)
    if declared is None or declared.network != "default-deny":
        return []
    return [
        error(
            "SA152",
            f"namespace '{dns}' runs cluster DNS; 'network: default-deny' there would block every "
            "name lookup in the cluster",
            ("namespaces", dns, "network"),
            hint="use 'network: open' for it, or tell secureai where DNS runs in kubernetes.clusterDns",
        )
    ]


def _peer(spec: Spec, rule: str, default_ns: str | None, peer: Peer, path: SpecPath) -> list[Diagnostic]:
    if peer.api_server and spec.kubernetes.api_server is None and spec.kubernetes.network_plugin != "cilium":
        return [
            error(
                "SA151",
                f"network rule '{rule}' names the API server, but 'kubernetes.apiServer' "
                "does not say where it is",
                (*path, "apiServer"),
                hint="add kubernetes.apiServer.cidrs (e.g. the output of `kubectl get endpoints kubernetes`)",
            )
        ]
    if peer.pods is None or peer.namespace_labels is not None:
        return []
    namespace = peer.namespace or default_ns
    if namespace is None:
        return [
            error(
                "SA102",
                f"network rule '{rule}': this pods peer names no namespace, and the rule has no "
                "'namespace' for it",
                path,
                hint="add 'namespace' to the peer, or to the rule (the namespace of every pods "
                "peer that names none)",
            )
        ]
    if namespace in spec.namespaces and not selects_any(spec, namespace, peer.pods):
        shown = ", ".join(f"{k}={v}" for k, v in peer.pods.items()) or "(all pods)"
        return [
            warning(
                "SA150",
                f"network rule '{rule}': no workload in namespace '{namespace}' has labels {shown}",
                (*path, "pods"),
                hint="a selector that matches nothing allows nothing",
            )
        ]
    return []
