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
from secureai.compile.kubernetes.scheduling import scheduling
from secureai.compile.kubernetes.storage import extra_container_mounts, pod_volumes
from secureai.compile.kubernetes.vault_delivery import apply_vault_parts, vault_pod_parts
from secureai.model.versions import NATIVE_SIDECARS


def pod_spec(ctx: PodContext) -> Manifest:
    w = ctx.workload
    check_token_volumes(ctx)
    volumes, mounts = pod_volumes(ctx)
    main = hardened_container(ctx.name, w, ctx.profile, mounts, ctx.relaxed)
    init = [
        hardened_container(name, c, ctx.profile, extra_container_mounts(ctx, c.volume_mounts), ctx.relaxed)
        for name, c in w.init_containers.items()
    ]
    sidecars = [
        hardened_container(name, c, ctx.profile, extra_container_mounts(ctx, c.volume_mounts), ctx.relaxed)
        for name, c in w.sidecars.items()
    ]
    containers = [main]
    if ctx.spec.minor >= NATIVE_SIDECARS:
        # Native sidecars: started before the main container, stopped after it, and not
        # counted when a Job's pod completes.
        init += [{**s, "restartPolicy": "Always"} for s in sidecars]
    else:
        containers += sidecars
    spec: Manifest = {
        "serviceAccountName": ctx.account,
        "automountServiceAccountToken": ctx.needs_api_token,
        "securityContext": pod_security_context(ctx),
        "containers": containers,
    }
    if init:
        spec["initContainers"] = init
    spec.update(host_namespaces(ctx.profile))
    spec.update(scheduling(ctx))
    if w.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in w.image_pull_secrets]
    if w.termination_grace_period_seconds is not None:
        spec["terminationGracePeriodSeconds"] = w.termination_grace_period_seconds
    if volumes:
        spec["volumes"] = volumes
    taken = {v["name"] for v in volumes} | set(ctx.workload.volumes)
    vault = vault_pod_parts(ctx, taken)
    apply_vault_parts(spec, vault)
    ctx.annotations.update(vault.annotations)
    return spec


__all__ = ["PodContext", "container_security_context", "pod_spec"]
