"""The `agent` mode: a Vault agent init container (and sidecar), its ConfigMap and the files' emptyDir."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.containers import hardened_container
from secureai.compile.kubernetes.pod_context import PodContext, default_profile
from secureai.compile.kubernetes.storage import own_volume_name
from secureai.compile.kubernetes.vault_delivery.shared import (
    AGENT_GID,
    AGENT_UID,
    CA_FILE,
    FILES_VOLUME,
    VaultPodParts,
    ca_volume,
    file_perms,
    files_group,
    projected_token,
    same_user,
    settings,
)
from secureai.compile.vault import vault_role_name
from secureai.compile.vault_agent import AgentFile, AgentLogin, AgentMode, agent_config
from secureai.model.containers import EnvValue, Resources
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.names import duration_seconds
from secureai.model.ports import PortSpec
from secureai.model.spec import Spec
from secureai.model.vault_delivery import WorkloadVault
from secureai.model.versions import NATIVE_SIDECARS

CONFIG_VOLUME = "secureai-vault-agent"
CONFIG_DIR = "/vault/config"
INIT_CONFIG, SIDECAR_CONFIG = "agent-init.hcl", "agent.hcl"
INIT_CONTAINER, SIDECAR_CONTAINER = "vault-agent-init", "vault-agent"
FILES_SIZE_LIMIT = "8Mi"  # memory-backed: counts against the pod's memory
CONFIG_ANNOTATION = "secureai.dev/vault-agent-config"


def agent_files(spec: Spec, vault: WorkloadVault, perms: str) -> list[AgentFile]:
    mount = settings(spec).kv_mount
    return [
        AgentFile(f"{vault.mount_path.rstrip('/')}/{name}", perms, mount, f.path, f.key, f.file_format)
        for name, f in vault.delivered_files()
    ]


def agent_login(spec: Spec, workload: str) -> AgentLogin:
    s = settings(spec)
    return AgentLogin(
        address=s.address_for_pods or "",
        auth_mount=s.kubernetes_auth_mount,
        role=vault_role_name(spec, workload),
        token_path=f"{VAULT_TOKEN_DIR}/token",
        ca_cert=CA_FILE if s.ca_cert is not None else None,
    )


def agent_configs(spec: Spec, name: str, perms: str) -> dict[str, str]:
    """The agent's configuration files, by ConfigMap key: init always, the sidecar's if asked."""
    w = spec.workloads[name]
    assert w.vault is not None
    files = agent_files(spec, w.vault, perms)
    login = agent_login(spec, name)
    refresh = duration_seconds(w.vault.agent.refresh)
    header = f"secureai: Vault agent of workload '{name}' in namespace '{w.namespace}'"
    modes: list[tuple[str, AgentMode]] = [(INIT_CONFIG, "init")]
    if sidecar_wanted(spec, name):
        modes.append((SIDECAR_CONFIG, "sidecar"))
    return {key: agent_config(login, files, mode, refresh, f"{header} ({mode})") for key, mode in modes}


def sidecar_wanted(spec: Spec, name: str) -> bool:
    """Asked for, on a kind that runs forever, on a target with native sidecars (the checks
    report the other cases)."""
    w = spec.workloads[name]
    return (
        w.vault is not None
        and w.vault.agent.sidecar
        and w.kind not in ("Job", "CronJob")
        and spec.minor >= NATIVE_SIDECARS
    )


def config_map_name(workload: str) -> str:
    return f"{workload}-vault-agent"


def _checksum(data: Mapping[str, str]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _AgentSource:
    """The agent container's contents, in the shape `hardened_container` builds from."""

    image: str
    command: Sequence[str]
    resources: Resources
    args: Sequence[str] | None = None
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    ports: Sequence[PortSpec] = ()


def agent_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    token, token_volume = projected_token(ctx, taken)
    files = own_volume_name(FILES_VOLUME, taken)
    config = own_volume_name(CONFIG_VOLUME, taken)
    parts.volumes += [
        token_volume,
        {"name": files, "emptyDir": {"medium": "Memory", "sizeLimit": FILES_SIZE_LIMIT}},
        {"name": config, "configMap": {"name": config_map_name(ctx.name)}},
    ]
    parts.mounts.append({"name": files, "mountPath": vault.mount_path, "readOnly": True})
    agent_mounts = [
        {"name": files, "mountPath": vault.mount_path, "readOnly": False},
        {"name": config, "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": token, "mountPath": VAULT_TOKEN_DIR, "readOnly": True},
    ]
    ca = ca_volume(ctx, taken)
    if ca is not None:
        parts.volumes.append(ca[0])
        agent_mounts.append(ca[1])
    perms = file_perms(ctx)
    configs = agent_configs(ctx.spec, ctx.name, perms)
    ids: Manifest = {"runAsUser": ctx.workload.run_as_user} if same_user(ctx) else {}
    if not same_user(ctx):
        ids = {"runAsUser": AGENT_UID, "runAsGroup": files_group(ctx)}
        if ctx.workload.fs_group is None:
            parts.fs_group = AGENT_GID
    for key, container in ((INIT_CONFIG, INIT_CONTAINER), (SIDECAR_CONFIG, SIDECAR_CONTAINER)):
        if key not in configs:
            continue
        source = _AgentSource(
            image=vault.agent.image,
            command=["bao", "agent", f"-config={CONFIG_DIR}/{key}"],
            resources=vault.agent.resources,
        )
        built = hardened_container(container, source, default_profile(), agent_mounts)
        built["securityContext"].update(ids)
        if key == SIDECAR_CONFIG:
            built["restartPolicy"] = "Always"  # a native sidecar: runs beside the app, ends with it
        parts.init_containers.append(built)
    parts.annotations[CONFIG_ANNOTATION] = _checksum(configs)
