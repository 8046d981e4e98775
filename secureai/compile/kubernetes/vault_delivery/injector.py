"""The `injector` mode: the Vault Agent Injector's pod annotations."""

from __future__ import annotations

from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.vault_delivery.shared import (
    AGENT_GID,
    AGENT_UID,
    VaultPodParts,
    file_perms,
    files_group,
    projected_token,
    same_user,
    settings,
)
from secureai.compile.vault import kv_data_path, vault_role_name
from secureai.compile.vault_agent import template_contents
from secureai.model.names import duration_seconds
from secureai.model.vault_delivery import WorkloadVault


def injector_key(file_name: str) -> str:
    """The id a file goes by in injector annotations: the injector lowercases it, so we do."""
    return file_name.lower()


def injector_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    s = settings(ctx.spec)
    injector = s.injector
    prefix = injector.annotation_prefix if injector is not None else "vault.hashicorp.com"
    token, token_volume = projected_token(ctx, taken)
    parts.volumes.append(token_volume)
    perms = file_perms(ctx)
    a: dict[str, str] = {
        "agent-inject": "true",
        "role": vault_role_name(ctx.spec, ctx.name),
        "auth-path": f"auth/{s.kubernetes_auth_mount}",
        # The injector mounts this (audience-bound) token into its agents; the app gets none.
        "agent-service-account-token-volume-name": token,
        "secret-volume-path": vault.mount_path,
        "template-config-exit-on-retry-failure": "true",
    }
    if s.address_for_pods:
        a["service"] = s.address_for_pods
    if injector is not None and injector.ca_cert is not None:
        a["ca-cert"] = injector.ca_cert
    if ctx.workload.kind in ("Job", "CronJob") or not vault.agent.sidecar:
        # Without it the injector adds a sidecar that never exits, and a Job never completes.
        a["agent-pre-populate-only"] = "true"
    else:
        a["template-static-secret-render-interval"] = f"{duration_seconds(vault.agent.refresh)}s"
    if "image" in vault.agent.model_fields_set:
        a["agent-image"] = vault.agent.image
    res = vault.agent.resources
    for kind, amounts in (("requests", res.requests), ("limits", res.limits)):
        if amounts is None:
            continue
        for resource_name, short in (("cpu", "cpu"), ("memory", "mem"), ("ephemeral-storage", "ephemeral")):
            value = amounts.get(resource_name)
            if value is not None:
                a[f"agent-{kind}-{short}"] = value
    if vault.containers is not None:
        a["agent-inject-containers"] = ",".join(vault.containers)
    if same_user(ctx):
        a["agent-run-as-user"] = str(ctx.workload.run_as_user)
        if ctx.workload.run_as_group is not None:
            a["agent-run-as-group"] = str(ctx.workload.run_as_group)
    else:
        a["agent-run-as-user"] = str(AGENT_UID)
        a["agent-run-as-group"] = str(files_group(ctx))
        if ctx.workload.fs_group is None:
            parts.fs_group = AGENT_GID
    mount = s.kv_mount
    for name, f in vault.delivered_files():
        key = injector_key(name)
        a[f"agent-inject-secret-{key}"] = kv_data_path(mount, f.path)
        a[f"agent-inject-template-{key}"] = template_contents(mount, f.path, f.key, f.file_format)
        a[f"agent-inject-file-{key}"] = name
        a[f"agent-inject-perms-{key}"] = perms
        a[f"error-on-missing-key-{key}"] = "true"
    parts.annotations.update({f"{prefix}/{k}": v for k, v in a.items()})
