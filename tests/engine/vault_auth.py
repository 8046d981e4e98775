"""OpenBao's kubernetes auth method configured against the engine tests' API server.

The reviewer is a ServiceAccount bound to `system:auth-delegator` (what Vault's docs ask for):
OpenBao sends each login's JWT to this API server's TokenReview with the reviewer's token, and
trusts the server through the harness CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .harness import ControlPlane

REVIEWER_NAMESPACE = "secureai-vault-auth"
REVIEWER = "vault-token-reviewer"


@dataclass(frozen=True)
class KubeAuth:
    mount: str
    reviewer: str  # namespace/name of the reviewer account


def configure_kubernetes_auth(client: Any, plane: ControlPlane, mount: str = "kubernetes") -> KubeAuth:
    kube = plane.client()
    kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": REVIEWER_NAMESPACE}})
    kube.apply_ok(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": REVIEWER, "namespace": REVIEWER_NAMESPACE},
        }
    )
    kube.apply_ok(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{REVIEWER_NAMESPACE}-{REVIEWER}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:auth-delegator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": REVIEWER, "namespace": REVIEWER_NAMESPACE}],
        }
    )
    reviewer_jwt = kube.token_request(REVIEWER_NAMESPACE, REVIEWER, [], seconds=3600)
    if f"{mount}/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("kubernetes", path=mount)
    client.write_data(
        f"auth/{mount}/config",
        data={
            "kubernetes_host": plane.server,
            "kubernetes_ca_cert": plane.ca_file.read_text(),
            "token_reviewer_jwt": reviewer_jwt,
            # OpenBao runs outside the cluster: there is no pod token or CA file to fall back to.
            "disable_local_ca_jwt": True,
        },
    )
    return KubeAuth(mount, f"{REVIEWER_NAMESPACE}/{REVIEWER}")
