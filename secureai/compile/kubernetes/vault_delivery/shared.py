"""What several modes share: the pod's parts, the agents' ids, file permissions, token and CA volumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.storage import own_volume_name
from secureai.model.spec import Spec
from secureai.model.vault import VaultSettings

VAULT_TOKEN_VOLUME = "secureai-vault-token"
VAULT_TOKEN_SECONDS = 600  # short-lived: the kubelet rotates it, Vault login reads it fresh
FILES_VOLUME = "secureai-vault-files"
CA_VOLUME, CA_DIR = "secureai-vault-ca", "/vault/tls"
CA_FILE = f"{CA_DIR}/ca.crt"
# The ids the injector's agents use by default: ours match, so both modes behave alike.
AGENT_UID, AGENT_GID = 100, 1000
OWNER_ONLY, OWNER_AND_GROUP = "0400", "0440"


@dataclass
class VaultPodParts:
    """What a workload's Vault delivery adds to its pod."""

    volumes: list[Manifest] = field(default_factory=list)
    mounts: list[Manifest] = field(default_factory=list)  # for the containers that get the files
    init_containers: list[Manifest] = field(default_factory=list)
    env: list[Manifest] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    fs_group: int | None = None  # the pod's fsGroup when the files need one and the spec set none
    targets: tuple[str, ...] | None = None  # containers that get mounts and env; None: all


def settings(spec: Spec) -> VaultSettings:
    return spec.vault or VaultSettings()


def same_user(ctx: PodContext) -> bool:
    """The agent runs as the application's user: the files can be owner-only."""
    return ctx.workload.run_as_user not in (None, 0)


def file_perms(ctx: PodContext) -> str:
    return OWNER_ONLY if same_user(ctx) else OWNER_AND_GROUP


def files_group(ctx: PodContext) -> int:
    """The group that may read 0440 files: the spec's fsGroup, else the agents' group."""
    return ctx.workload.fs_group if ctx.workload.fs_group is not None else AGENT_GID


def ca_volume(ctx: PodContext, taken: set[str]) -> tuple[Manifest, Manifest] | None:
    """Vault's CA (a ConfigMap key) as a volume and its read-only mount at `CA_DIR`."""
    ca = settings(ctx.spec).ca_cert
    if ca is None:
        return None
    name = own_volume_name(CA_VOLUME, taken)
    items = [{"key": ca.key, "path": "ca.crt"}]
    volume = {"name": name, "configMap": {"name": ca.config_map, "items": items}}
    return volume, {"name": name, "mountPath": CA_DIR, "readOnly": True}


def projected_token(ctx: PodContext, taken: set[str]) -> tuple[str, Manifest]:
    """A token only Vault accepts (its audience), so the API token need not be mounted."""
    name = own_volume_name(VAULT_TOKEN_VOLUME, taken)
    token = {
        "audience": settings(ctx.spec).audience,
        "expirationSeconds": VAULT_TOKEN_SECONDS,
        "path": "token",
    }
    return name, {"name": name, "projected": {"sources": [{"serviceAccountToken": token}]}}
