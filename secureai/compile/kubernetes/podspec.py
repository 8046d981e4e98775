"""The hardened pod spec of one workload, assembled from the per-concern builders.

Known limitation: `runAsNonRoot: true` is checked by the kubelet against the user the container
will run as. With no `runAsUser` in the spec that is the image's USER, and the kubelet refuses
to start the container (CreateContainerConfigError) when the image runs as root, or names its
user by name (`USER postgres`), since it cannot prove a name is non-root. Such images need
`runAsUser` (the image's numeric uid) in the spec; nothing here can know it at compile time.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.containers import container_security_context, hardened_container
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.pod_security import (
    check_token_volumes,
    host_namespaces,
    pod_security_context,
)
from secureai.compile.kubernetes.storage import pod_volumes
from secureai.compile.kubernetes.vault_delivery import apply_vault_parts, vault_pod_parts


def pod_spec(ctx: PodContext) -> Manifest:
    check_token_volumes(ctx)
    volumes, mounts = pod_volumes(ctx)
    spec: Manifest = {
        "serviceAccountName": ctx.account,
        "automountServiceAccountToken": ctx.needs_api_token,
        "securityContext": pod_security_context(ctx),
        "containers": [hardened_container(ctx.name, ctx.workload, ctx.profile, mounts)],
    }
    spec.update(host_namespaces(ctx.profile))
    if volumes:
        spec["volumes"] = volumes
    taken = {v["name"] for v in volumes} | set(ctx.workload.volumes)
    vault = vault_pod_parts(ctx, taken)
    apply_vault_parts(spec, vault)
    ctx.annotations.update(vault.annotations)
    return spec


__all__ = ["PodContext", "container_security_context", "pod_spec"]
