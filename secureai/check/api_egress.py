"""A workload granted API access in a default-deny namespace needs a flow to the API server.

Its account's grants mount an API token, but default-deny egress blocks every connection the
token is for: the workload fails at run time with timeouts, far from the cause (as SA254 says
for Vault logins). Warned unless a network rule lets the workload's pods reach `apiServer`.
"""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, warning
from secureai.model.labels import pod_labels
from secureai.model.network import NetworkRule, Peer
from secureai.model.spec import Spec


def check_api_egress(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    # Only rules to the API server can let a workload out: found once, not per workload.
    to_api = [rule for rule in spec.network.values() if any(peer.api_server for peer in rule.to)]
    for name, w in spec.workloads.items():
        account = w.service_account or name
        access = spec.access.get(account)
        namespace = spec.namespaces.get(w.namespace)
        if access is None or access.namespace != w.namespace or not access.can:
            continue
        if namespace is None or namespace.network != "default-deny":
            continue
        labels = pod_labels(name, w)
        if any(_lets_out(rule, w.namespace, labels) for rule in to_api):
            continue
        out.append(
            warning(
                "SA166",
                f"workload '{name}' gets an API token for the grants of '{account}', but default-deny "
                f"namespace '{w.namespace}' lets it reach no API server",
                ("workloads", name),
                hint="add a network rule from its pods to [{ apiServer: true }] (and kubernetes.apiServer), "
                "or drop the grants if it does not call the API",
            )
        )
    return out


def _lets_out(rule: NetworkRule, namespace: str, labels: dict[str, str]) -> bool:
    return any(_selects(peer, rule, namespace, labels) for peer in rule.from_)


def _selects(peer: Peer, rule: NetworkRule, namespace: str, labels: dict[str, str]) -> bool:
    """The peer (pods in a namespace, or a whole namespace) includes the workload's pods."""
    if peer.cidr is not None or peer.api_server or peer.namespace_labels is not None or peer.fqdn:
        return False
    if (peer.namespace or rule.namespace) != namespace:
        return False
    return peer.pods is None or peer.pods.items() <= labels.items()
