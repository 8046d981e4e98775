"""How Vault values reach a workload's pods (`vault.deliver`): the pod's parts and the objects beside it.

- `agent`: an OpenBao/Vault agent init container (and, if asked, a native sidecar) built by
  `hardened_container` with the locked-down default profile, its configuration in a ConfigMap
  (a checksum annotation rolls the pods when it changes), the files on a memory-backed emptyDir
  mounted read-only into the containers that asked. Files are 0400 when the agent runs as the
  pod's user, else 0440 with the pod's fsGroup (secureai sets one if the spec has none).
- `injector`: the Vault Agent Injector's annotations; the projected Vault token is a volume the
  injector mounts into its own agents (`agent-service-account-token-volume-name`), never into
  the application.
- `externalSecrets`: a SecretStore (kubernetes auth as the workload's own account, audience
  bound) and an ExternalSecret syncing the files into a Secret, mounted read-only (0440); the
  workload gets no Vault token at all, and the egress to Vault is the operator's.
- `none`: the projected token mounted into the application, and env vars saying where to log in.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.compile.kubernetes.vault_delivery.agent import agent_configs, agent_parts, config_map_name
from secureai.compile.kubernetes.vault_delivery.external_secrets import (
    ESO_API,
    external_secret,
    external_secrets_parts,
    operator_egress,
    operator_needs_egress,
    synced_secret_name,
)
from secureai.compile.kubernetes.vault_delivery.injector import injector_parts
from secureai.compile.kubernetes.vault_delivery.none import none_parts
from secureai.compile.kubernetes.vault_delivery.shared import VaultPodParts, file_perms
from secureai.compile.plan import Resource
from secureai.model.spec import Spec

# ----------------------------------------------------------------------------- the pod


def vault_pod_parts(ctx: PodContext, taken: set[str]) -> VaultPodParts:
    """The volumes, mounts, init containers, env and annotations `ctx`'s delivery adds.

    `taken` holds the pod's other volume names; the names chosen here are added to it.
    """
    vault = ctx.workload.vault
    if vault is None:
        return VaultPodParts()
    parts = VaultPodParts(targets=tuple(vault.containers) if vault.containers is not None else None)
    if vault.deliver == "agent":
        agent_parts(ctx, vault, parts, taken)
    elif vault.deliver == "injector":
        injector_parts(ctx, vault, parts, taken)
    elif vault.deliver == "externalSecrets":
        external_secrets_parts(ctx, vault, parts, taken)
    else:
        none_parts(ctx, vault, parts, taken)
    return parts


def apply_vault_parts(pod: Manifest, parts: VaultPodParts) -> None:
    """Add `parts` to a built pod spec: mounts and env to the targets, our init containers first.

    A spec's own env var wins over ours of the same name: it is what the user wrote.
    """
    if parts.volumes:
        pod["volumes"] = [*pod.get("volumes", []), *parts.volumes]
    # The spec's own init containers and sidecars read the files too: ours run first.
    for container in [*pod["containers"], *pod.get("initContainers", [])]:
        if parts.targets is not None and container["name"] not in parts.targets:
            continue
        if parts.mounts:
            container["volumeMounts"] = [*container.get("volumeMounts", []), *parts.mounts]
        if parts.env:
            own = {e["name"] for e in container.get("env", [])}
            env = [*container.get("env", []), *(e for e in parts.env if e["name"] not in own)]
            container["env"] = env
    if parts.init_containers:
        pod["initContainers"] = [*parts.init_containers, *pod.get("initContainers", [])]
    if parts.fs_group is not None:
        pod["securityContext"].setdefault("fsGroup", parts.fs_group)


def vault_dependencies(spec: Spec, name: str) -> tuple[str, ...]:
    """What a workload's pods need to exist first: the agent's ConfigMap, the synced Secret's source."""
    w = spec.workloads[name]
    if w.vault is None:
        return ()
    if w.vault.deliver == "agent":
        return (key_of("v1", "ConfigMap", w.namespace, config_map_name(name)),)
    if w.vault.deliver == "externalSecrets":
        return (key_of(ESO_API, "ExternalSecret", w.namespace, synced_secret_name(name)),)
    return ()


# ----------------------------------------------------------------------------- beside the pod


def compile_vault_delivery(spec: Spec) -> list[Resource]:
    """The agents' ConfigMaps, the External Secrets objects, and the operator's egress to Vault."""
    out: list[Resource] = []
    for name, w in spec.workloads.items():
        if w.vault is None:
            continue
        ctx = PodContext(spec, name, w)
        source = ("workloads", name, "vault")
        # An agent's configuration is for a pod secureai renders (SA195 otherwise).
        if w.vault.deliver == "agent" and not w.external:
            data = agent_configs(spec, name, file_perms(ctx))
            out.append(
                resource("v1", "ConfigMap", config_map_name(name), w.namespace, {"data": data}, source)
            )
        elif w.vault.deliver == "externalSecrets":
            out += external_secret(spec, name, w.vault)
    out += operator_egress(spec)
    return out


__all__ = [
    "VaultPodParts",
    "apply_vault_parts",
    "compile_vault_delivery",
    "operator_needs_egress",
    "vault_dependencies",
    "vault_pod_parts",
]
