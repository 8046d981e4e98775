"""Egress from Vault readers to Vault, so default-deny namespaces do not block their login.

A workload that reads Vault logs in with its projected token at start-up; in a default-deny
namespace that connection is refused unless a policy lets it out. The spec says where Vault
is once (`vault.network`), and each reader gets an egress policy to exactly there.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import resource
from secureai.compile.kubernetes.network import NETPOL, to_np_peers
from secureai.compile.plan import Resource
from secureai.diagnostics import Diagnostic, warning
from secureai.model.labels import pod_selector
from secureai.model.spec import Spec


def isolated_readers(spec: Spec) -> list[str]:
    return [
        name
        for name, w in spec.workloads.items()
        if w.vault is not None
        # External Secrets reads Vault from the operator's pods, not the workload's.
        and w.vault.deliver != "externalSecrets"
        and w.namespace in spec.namespaces
        and spec.namespaces[w.namespace].network == "default-deny"
    ]


def compile_vault_egress(spec: Spec) -> list[Resource]:
    if spec.kubernetes.network_plugin == "cilium":
        return []  # compile/kubernetes/cilium.py renders this egress as a CiliumNetworkPolicy
    if spec.vault is None or not spec.vault.network:
        return []
    out: list[Resource] = []
    for name in isolated_readers(spec):
        ns = spec.workloads[name].namespace
        peers = [p for peer in spec.vault.network for p in to_np_peers(spec, ns, peer, ns)]
        if not peers:
            continue  # only domains (check SA153): an empty `to` would allow every destination
        body = {
            "spec": {
                "podSelector": {"matchLabels": pod_selector(name, spec.workloads[name])},
                "policyTypes": ["Egress"],
                "egress": [{"to": peers, "ports": [{"protocol": "TCP", "port": spec.vault.port}]}],
            }
        }
        out.append(
            resource(NETPOL, "NetworkPolicy", f"{name}-to-vault", ns, body, ("workloads", name, "vault"))
        )
    return out


def vault_egress_diagnostics(spec: Spec) -> list[Diagnostic]:
    if spec.vault is None or spec.vault.network:
        return []
    return [
        warning(
            "SA254",
            f"workload '{name}' reads Vault from default-deny namespace "
            f"'{spec.workloads[name].namespace}', but 'vault.network' does not say where Vault is, "
            "so its login will be blocked",
            ("workloads", name, "vault"),
            hint="add vault.network, e.g. [{ cidr: 10.0.0.10/32 }] or [{ namespace: vault, pods: "
            "{ app.kubernetes.io/name: vault } }]",
        )
        for name in isolated_readers(spec)
    ]
