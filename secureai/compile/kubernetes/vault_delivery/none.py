"""The `none` mode: the Vault token mounted into the application, env vars saying where to log in."""

from __future__ import annotations

from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.vault_delivery.shared import (
    CA_FILE,
    VaultPodParts,
    ca_volume,
    projected_token,
    settings,
)
from secureai.compile.vault import vault_role_name
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.vault_delivery import WorkloadVault


def none_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    token, token_volume = projected_token(ctx, taken)
    parts.volumes.append(token_volume)
    parts.mounts.append({"name": token, "mountPath": VAULT_TOKEN_DIR, "readOnly": True})
    ca = ca_volume(ctx, taken)
    if ca is not None:
        parts.volumes.append(ca[0])
        parts.mounts.append(ca[1])
    s = settings(ctx.spec)
    values = {
        "VAULT_CACERT": CA_FILE if ca is not None else None,
        "VAULT_ADDR": s.address_for_pods,
        "VAULT_AUTH_MOUNT": s.kubernetes_auth_mount,
        "VAULT_AUTH_ROLE": vault_role_name(ctx.spec, ctx.name),
        "VAULT_TOKEN_FILE": f"{VAULT_TOKEN_DIR}/token",
        "VAULT_KV_MOUNT": s.kv_mount,
        "VAULT_PATHS": ",".join(dict.fromkeys(vault.read)),
    }
    parts.env += [{"name": k, "value": v} for k, v in values.items() if v is not None]
