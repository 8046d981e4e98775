"""The `externalSecrets` mode: the External Secrets Operator's objects, the synced Secret, its egress."""

from __future__ import annotations

from dataclasses import replace

from secureai.compile.kubernetes.common import Manifest, resource
from secureai.compile.kubernetes.network import NETPOL, to_np_peers
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.rbac import account_keys
from secureai.compile.kubernetes.storage import own_volume_name
from secureai.compile.kubernetes.vault_delivery.shared import (
    AGENT_GID,
    FILES_VOLUME,
    VaultPodParts,
    settings,
)
from secureai.compile.naming import service_account_of
from secureai.compile.plan import Resource
from secureai.compile.vault import vault_role_name
from secureai.model.spec import Spec
from secureai.model.vault import VaultSettings
from secureai.model.vault_delivery import VaultFile, WorkloadVault

ESO_API = "external-secrets.io/v1"


def synced_secret_name(workload: str) -> str:
    return f"{workload}-vault"


def external_secrets_parts(
    ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]
) -> None:
    name = own_volume_name(FILES_VOLUME, taken)
    # Secret volume files belong to root and the fsGroup, whoever the pod runs as: 0440.
    parts.volumes.append(
        {"name": name, "secret": {"secretName": synced_secret_name(ctx.name), "defaultMode": 0o440}}
    )
    parts.mounts.append({"name": name, "mountPath": vault.mount_path, "readOnly": True})
    if ctx.workload.fs_group is None:
        parts.fs_group = AGENT_GID


def external_secret(spec: Spec, name: str, vault: WorkloadVault) -> list[Resource]:
    s = settings(spec)
    w = spec.workloads[name]
    source = ("workloads", name, "vault")
    store_name = synced_secret_name(name)
    store = {
        "spec": {
            "provider": {
                "vault": {
                    "server": s.address_for_pods or "",
                    "path": s.kv_mount,
                    "version": "v2",
                    **_ca_provider(s),
                    "auth": {
                        "kubernetes": {
                            "mountPath": s.kubernetes_auth_mount,
                            "role": vault_role_name(spec, name),
                            # The operator asks for a token of the workload's own account, so
                            # Vault's role binding stays the workload's, as for the agent.
                            "serviceAccountRef": {
                                "name": service_account_of(spec, name),
                                "audiences": [s.audience],
                            },
                        }
                    },
                }
            }
        }
    }
    refresh = s.external_secrets.refresh if s.external_secrets is not None else "1h"
    body = {
        "spec": {
            "refreshInterval": refresh,
            "secretStoreRef": {"name": store_name, "kind": "SecretStore"},
            "target": {"name": synced_secret_name(name), "creationPolicy": "Owner"},
            "data": [_remote_ref(file_name, f) for file_name, f in vault.delivered_files()],
        }
    }
    store_res = resource(ESO_API, "SecretStore", store_name, w.namespace, store, source)
    store_res = _with_deps(store_res, account_keys(spec, w.namespace, [service_account_of(spec, name)]))
    external = resource(
        ESO_API,
        "ExternalSecret",
        synced_secret_name(name),
        w.namespace,
        body,
        source,
        depends_on=(store_res.key,),
    )
    return [store_res, external]


def _with_deps(res: Resource, deps: tuple[str, ...]) -> Resource:
    return replace(res, depends_on=tuple(dict.fromkeys((*res.depends_on, *deps))))


def _ca_provider(s: VaultSettings) -> Manifest:
    if s.ca_cert is None:
        return {}
    return {"caProvider": {"type": "ConfigMap", "name": s.ca_cert.config_map, "key": s.ca_cert.key}}


def _remote_ref(file_name: str, f: VaultFile) -> Manifest:
    ref: Manifest = {"key": f.path}
    if f.file_format == "raw" and f.key is not None:
        ref["property"] = f.key
    # Without a property the operator returns the path's whole data as one JSON document.
    return {"secretKey": file_name, "remoteRef": ref}


def operator_needs_egress(spec: Spec) -> bool:
    """Whether the External Secrets pods need an egress policy to Vault (see operator_egress)."""
    s = spec.vault
    if s is None or s.external_secrets is None or not s.network:
        return False
    if not any(w.vault is not None and w.vault.deliver == "externalSecrets" for w in spec.workloads.values()):
        return False
    ns = spec.namespaces.get(s.external_secrets.namespace)
    return ns is not None and ns.network == "default-deny"


def operator_egress(spec: Spec) -> list[Resource]:
    """Egress from the External Secrets pods to Vault, when their namespace is a default-deny one here.

    Only then: in a namespace without a default deny, a policy selecting the operator's pods
    for egress would cut every other connection they make (the API server first).
    """
    if spec.kubernetes.network_plugin == "cilium" or not operator_needs_egress(spec):
        return []  # on cilium, compile/kubernetes/cilium.py renders it
    s = spec.vault
    assert s is not None and s.external_secrets is not None
    eso = s.external_secrets
    peers = [p for peer in s.network for p in to_np_peers(spec, eso.namespace, peer, eso.namespace)]
    if not peers:
        return []  # only domains (check SA153): an empty `to` would allow every destination
    body = {
        "spec": {
            "podSelector": {"matchLabels": dict(eso.pods)},
            "policyTypes": ["Egress"],
            "egress": [{"to": peers, "ports": [{"protocol": "TCP", "port": s.port}]}],
        }
    }
    return [
        resource(
            NETPOL,
            "NetworkPolicy",
            "external-secrets-to-vault",
            eso.namespace,
            body,
            ("vault", "externalSecrets"),
        )
    ]
