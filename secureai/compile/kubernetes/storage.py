"""A pod's volumes and their mounts: the spec's volumes and the writable /tmp (Vault's: `vault_delivery`)."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.model.storage import Volume

TMP_VOLUME = "secureai-tmp"


def pod_volumes(ctx: PodContext) -> tuple[list[Manifest], list[Manifest]]:
    """The pod's volumes, and the main container's mounts of them."""
    volumes: list[Manifest] = []
    mounts: list[Manifest] = []
    taken = set(ctx.workload.volumes)
    for name, vol in ctx.workload.volumes.items():
        volumes.append({"name": name, **_volume_source(vol)})
        mounts.append({"name": name, "mountPath": vol.mount_path, "readOnly": vol.read_only})
    if _wants_tmp(ctx):
        # Most images write to /tmp; with a read-only root filesystem they fail without a
        # writable scratch directory, so one is added unless the spec mounts /tmp itself.
        name = own_volume_name(TMP_VOLUME, taken)
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": "/tmp", "readOnly": False})
    return volumes, mounts


def own_volume_name(base: str, taken: set[str]) -> str:
    """A name for a volume secureai adds that no spec volume has: the API rejects duplicates,
    and a spec may well call its own volume `secureai-tmp`."""
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}-{count}"
    taken.add(name)
    return name


def _volume_source(vol: Volume) -> Manifest:
    if vol.secret is not None:
        return {"secret": {"secretName": vol.secret}}
    if vol.config_map is not None:
        return {"configMap": {"name": vol.config_map}}
    if vol.empty_dir is not None:
        return {"emptyDir": vol.empty_dir.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)}
    if vol.persistent_volume_claim is not None:
        return {
            "persistentVolumeClaim": {
                "claimName": vol.persistent_volume_claim,
                "readOnly": vol.read_only,
            }
        }
    assert vol.host_path is not None  # the model guarantees exactly one source
    return {"hostPath": {"path": vol.host_path}}


def _wants_tmp(ctx: PodContext) -> bool:
    profile = ctx.profile
    if not profile.read_only_root_filesystem or "emptyDir" not in profile.volumes:
        return False
    return all(vol.mount_path.rstrip("/") != "/tmp" for vol in ctx.workload.volumes.values())
