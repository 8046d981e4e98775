"""Network rules make sense: pod selectors select something, API server peers are located."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.spec import Peer, Spec


def selects_any(spec: Spec, namespace: str, labels: dict[str, str]) -> bool:
    return any(
        w.namespace == namespace and all(w.labels.get(k) == v for k, v in labels.items())
        for w in spec.workloads.values()
    )


def check_network(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, rule in spec.network.items():
        for side, peers in (("from", rule.from_), ("to", rule.to)):
            for index, peer in enumerate(peers):
                out.extend(_peer(spec, name, rule.namespace, peer, ("network", name, side, index)))
    return out


def _peer(spec: Spec, rule: str, default_ns: str, peer: Peer, path: SpecPath) -> list[Diagnostic]:
    if peer.api_server and spec.kubernetes.api_server is None:
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
