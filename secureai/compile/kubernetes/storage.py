"""A pod's volumes and their mounts: the spec's volumes, claims it creates, /dev/shm and the
writable /tmp (Vault's: `vault_delivery`)."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, resource
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.plan import Resource
from secureai.model.containers import VolumeMount
from secureai.model.labels import APP_NAME
from secureai.model.storage import ClaimShape, Volume

TMP_VOLUME = "secureai-tmp"
SHM_VOLUME = "secureai-shm"


def pod_volumes(ctx: PodContext) -> tuple[list[Manifest], list[Manifest]]:
    """The pod's volumes, and the main container's mounts of them."""
    volumes: list[Manifest] = []
    mounts: list[Manifest] = []
    taken = set(ctx.workload.volumes)
    ctx.tmp_volume = None
    for name, vol in ctx.workload.volumes.items():
        source = _volume_source(ctx, name, vol)
        if source is not None:  # a StatefulSet's claim template is not a pod volume
            volumes.append({"name": name, **source})
        mounts.append({"name": name, "mountPath": vol.mount_path, "readOnly": not vol.writable})
    if ctx.workload.shm is not None:
        # Shared memory for PyTorch data loaders and NCCL: the runtime's 64 MiB default is too small.
        name = own_volume_name(SHM_VOLUME, taken)
        volumes.append({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": ctx.workload.shm}})
        mounts.append({"name": name, "mountPath": "/dev/shm", "readOnly": False})
    if wants_tmp(ctx):
        # Most images write to /tmp; with a read-only root filesystem they fail without a
        # writable scratch directory, so one is added unless the spec mounts /tmp itself.
        name = own_volume_name(TMP_VOLUME, taken)
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": "/tmp", "readOnly": False})
        ctx.tmp_volume = name
    return volumes, mounts


def extra_container_mounts(ctx: PodContext, requested: list[VolumeMount]) -> list[Manifest]:
    """An init container's or sidecar's mounts: those it asks for, plus the writable /tmp."""
    mounts: list[Manifest] = []
    for m in requested:
        vol = ctx.workload.volumes.get(m.name)
        read_only = m.read_only if m.read_only is not None else not (vol is not None and vol.writable)
        mount: Manifest = {"name": m.name, "mountPath": m.mount_path, "readOnly": read_only}
        if m.sub_path is not None:
            mount["subPath"] = m.sub_path
        mounts.append(mount)
    if ctx.tmp_volume is not None and all(m.mount_path.rstrip("/") != "/tmp" for m in requested):
        mounts.append({"name": ctx.tmp_volume, "mountPath": "/tmp", "readOnly": False})
    return mounts


def own_volume_name(base: str, taken: set[str]) -> str:
    """A name for a volume secureai adds that no spec volume has: the API rejects duplicates,
    and a spec may well call its own volume `secureai-tmp`."""
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}-{count}"
    taken.add(name)
    return name


def claim_name(workload: str, volume: str) -> str:
    """The PersistentVolumeClaim secureai creates for a non-StatefulSet workload's claim."""
    return f"{workload}-{volume}"


def claim_spec(shape: ClaimShape) -> Manifest:
    spec: Manifest = {
        "accessModes": list(shape.access_modes),
        "resources": {"requests": {"storage": shape.size}},
    }
    if shape.storage_class_name is not None:
        spec["storageClassName"] = shape.storage_class_name
    return spec


def claim_templates(ctx: PodContext) -> list[Manifest]:
    """A StatefulSet's `volumeClaimTemplates`: one claim per replica, kept across restarts."""
    if ctx.workload.kind != "StatefulSet":
        return []
    return [
        {"metadata": {"name": name}, "spec": claim_spec(vol.claim)}
        for name, vol in ctx.workload.volumes.items()
        if vol.claim is not None
    ]


def owned_claims(ctx: PodContext) -> list[Resource]:
    """Claims secureai creates for the workload's claim volumes (on kinds other than StatefulSet)."""
    w = ctx.workload
    if w.kind == "StatefulSet":
        return []
    return [
        resource(
            "v1",
            "PersistentVolumeClaim",
            claim_name(ctx.name, name),
            w.namespace,
            {"spec": claim_spec(vol.claim)},
            (*ctx.path, "volumes", name),
            labels={APP_NAME: ctx.name},
            # A WaitForFirstConsumer claim binds only once its pod is scheduled; a deploy that
            # waited for it to bind before creating the pod would never finish.
            annotations={"pulumi.com/skipAwait": "true"},
        )
        for name, vol in w.volumes.items()
        if vol.claim is not None
    ]


def _volume_source(ctx: PodContext, name: str, vol: Volume) -> Manifest | None:
    if vol.secret is not None:
        return {"secret": {"secretName": vol.secret}}
    if vol.config_map is not None:
        return {"configMap": {"name": vol.config_map}}
    if vol.empty_dir is not None:
        return {"emptyDir": vol.empty_dir.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)}
    if vol.persistent_volume_claim is not None:
        return {
            "persistentVolumeClaim": {"claimName": vol.persistent_volume_claim, "readOnly": not vol.writable}
        }
    if vol.claim is not None:
        if ctx.workload.kind == "StatefulSet":
            return None
        return {"persistentVolumeClaim": {"claimName": claim_name(ctx.name, name)}}
    if vol.ephemeral is not None:
        return {"ephemeral": {"volumeClaimTemplate": {"spec": claim_spec(vol.ephemeral)}}}
    assert vol.host_path is not None  # the model guarantees exactly one source
    return {"hostPath": {"path": vol.host_path}}


def wants_tmp(ctx: PodContext) -> bool:
    profile = ctx.profile
    if not profile.read_only_root_filesystem or "emptyDir" not in profile.volumes:
        return False
    return all(vol.mount_path.rstrip("/") != "/tmp" for vol in ctx.workload.volumes.values())
