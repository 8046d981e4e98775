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

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.containers import hardened_container
from secureai.compile.kubernetes.network import NETPOL, to_np_peers
from secureai.compile.kubernetes.pod_context import PodContext, default_profile
from secureai.compile.kubernetes.rbac import account_keys
from secureai.compile.kubernetes.storage import own_volume_name
from secureai.compile.naming import service_account_of
from secureai.compile.plan import Resource
from secureai.compile.vault import kv_data_path, vault_role_name
from secureai.compile.vault_agent import AgentFile, AgentLogin, AgentMode, agent_config, template_contents
from secureai.model.containers import EnvValue, Resources
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.names import duration_seconds
from secureai.model.ports import PortSpec
from secureai.model.spec import Spec
from secureai.model.vault import VaultSettings
from secureai.model.vault_delivery import VaultFile, WorkloadVault
from secureai.model.versions import NATIVE_SIDECARS

VAULT_TOKEN_VOLUME = "secureai-vault-token"
VAULT_TOKEN_SECONDS = 600  # short-lived: the kubelet rotates it, Vault login reads it fresh
FILES_VOLUME = "secureai-vault-files"
CONFIG_VOLUME = "secureai-vault-agent"
CONFIG_DIR = "/vault/config"
CA_VOLUME, CA_DIR = "secureai-vault-ca", "/vault/tls"
CA_FILE = f"{CA_DIR}/ca.crt"
INIT_CONFIG, SIDECAR_CONFIG = "agent-init.hcl", "agent.hcl"
INIT_CONTAINER, SIDECAR_CONTAINER = "vault-agent-init", "vault-agent"
# The ids the injector's agents use by default: ours match, so both modes behave alike.
AGENT_UID, AGENT_GID = 100, 1000
FILES_SIZE_LIMIT = "8Mi"  # memory-backed: counts against the pod's memory
CONFIG_ANNOTATION = "secureai.dev/vault-agent-config"
ESO_API = "external-secrets.io/v1"
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


# ----------------------------------------------------------------------------- shared facts


def _settings(spec: Spec) -> VaultSettings:
    return spec.vault or VaultSettings()


def same_user(ctx: PodContext) -> bool:
    """The agent runs as the application's user: the files can be owner-only."""
    return ctx.workload.run_as_user not in (None, 0)


def file_perms(ctx: PodContext) -> str:
    return OWNER_ONLY if same_user(ctx) else OWNER_AND_GROUP


def files_group(ctx: PodContext) -> int:
    """The group that may read 0440 files: the spec's fsGroup, else the agents' group."""
    return ctx.workload.fs_group if ctx.workload.fs_group is not None else AGENT_GID


def agent_files(spec: Spec, vault: WorkloadVault, perms: str) -> list[AgentFile]:
    mount = _settings(spec).kv_mount
    return [
        AgentFile(f"{vault.mount_path.rstrip('/')}/{name}", perms, mount, f.path, f.key, f.file_format)
        for name, f in vault.delivered_files()
    ]


def agent_login(spec: Spec, workload: str) -> AgentLogin:
    s = _settings(spec)
    return AgentLogin(
        address=s.address_for_pods or "",
        auth_mount=s.kubernetes_auth_mount,
        role=vault_role_name(spec, workload),
        token_path=f"{VAULT_TOKEN_DIR}/token",
        ca_cert=CA_FILE if s.ca_cert is not None else None,
    )


def _ca_volume(ctx: PodContext, taken: set[str]) -> tuple[Manifest, Manifest] | None:
    """Vault's CA (a ConfigMap key) as a volume and its read-only mount at `CA_DIR`."""
    ca = _settings(ctx.spec).ca_cert
    if ca is None:
        return None
    name = own_volume_name(CA_VOLUME, taken)
    items = [{"key": ca.key, "path": "ca.crt"}]
    volume = {"name": name, "configMap": {"name": ca.config_map, "items": items}}
    return volume, {"name": name, "mountPath": CA_DIR, "readOnly": True}


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


def synced_secret_name(workload: str) -> str:
    return f"{workload}-vault"


def _checksum(data: Mapping[str, str]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


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
        _agent_parts(ctx, vault, parts, taken)
    elif vault.deliver == "injector":
        _injector_parts(ctx, vault, parts, taken)
    elif vault.deliver == "externalSecrets":
        _external_secrets_parts(ctx, vault, parts, taken)
    else:
        _none_parts(ctx, vault, parts, taken)
    return parts


def _token_volume(ctx: PodContext, taken: set[str]) -> tuple[str, Manifest]:
    """A token only Vault accepts (its audience), so the API token need not be mounted."""
    name = own_volume_name(VAULT_TOKEN_VOLUME, taken)
    token = {
        "audience": _settings(ctx.spec).audience,
        "expirationSeconds": VAULT_TOKEN_SECONDS,
        "path": "token",
    }
    return name, {"name": name, "projected": {"sources": [{"serviceAccountToken": token}]}}


@dataclass(frozen=True)
class _AgentSource:
    """The agent container's contents, in the shape `hardened_container` builds from."""

    image: str
    command: Sequence[str]
    resources: Resources
    args: Sequence[str] | None = None
    env: Mapping[str, EnvValue] = field(default_factory=dict)
    ports: Sequence[PortSpec] = ()


def _agent_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    token, token_volume = _token_volume(ctx, taken)
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
    ca = _ca_volume(ctx, taken)
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


def injector_key(file_name: str) -> str:
    """The id a file goes by in injector annotations: the injector lowercases it, so we do."""
    return file_name.lower()


def _injector_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    s = _settings(ctx.spec)
    injector = s.injector
    prefix = injector.annotation_prefix if injector is not None else "vault.hashicorp.com"
    token, token_volume = _token_volume(ctx, taken)
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


def _external_secrets_parts(
    ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]
) -> None:
    name = own_volume_name(FILES_VOLUME, taken)
    # Secret volume files belong to root and the fsGroup, whoever the pod runs as: 0440.
    parts.volumes.append(
        {"name": name, "secret": {"secretName": synced_secret_name(ctx.name), "defaultMode": 0o440}}
    )
    parts.mounts.append({"name": name, "mountPath": vault.mount_path, "readOnly": True})
    if ctx.workload.fs_group is None:
        parts.fs_group = AGENT_GID


def _none_parts(ctx: PodContext, vault: WorkloadVault, parts: VaultPodParts, taken: set[str]) -> None:
    token, token_volume = _token_volume(ctx, taken)
    parts.volumes.append(token_volume)
    parts.mounts.append({"name": token, "mountPath": VAULT_TOKEN_DIR, "readOnly": True})
    ca = _ca_volume(ctx, taken)
    if ca is not None:
        parts.volumes.append(ca[0])
        parts.mounts.append(ca[1])
    s = _settings(ctx.spec)
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
            out += _external_secret(spec, name, w.vault)
    out += _operator_egress(spec)
    return out


def _external_secret(spec: Spec, name: str, vault: WorkloadVault) -> list[Resource]:
    s = _settings(spec)
    w = spec.workloads[name]
    source = ("workloads", name, "vault")
    store_name = synced_secret_name(name)
    store = {
        "spec": {
            "provider": {
                "vault": {
                    "server": s.address_for_pods or "",
                    "path": s.kv_mount,
                    "version": "v2",
                    **_ca_provider(s),
                    "auth": {
                        "kubernetes": {
                            "mountPath": s.kubernetes_auth_mount,
                            "role": vault_role_name(spec, name),
                            # The operator asks for a token of the workload's own account, so
                            # Vault's role binding stays the workload's, as for the agent.
                            "serviceAccountRef": {
                                "name": service_account_of(spec, name),
                                "audiences": [s.audience],
                            },
                        }
                    },
                }
            }
        }
    }
    refresh = s.external_secrets.refresh if s.external_secrets is not None else "1h"
    body = {
        "spec": {
            "refreshInterval": refresh,
            "secretStoreRef": {"name": store_name, "kind": "SecretStore"},
            "target": {"name": synced_secret_name(name), "creationPolicy": "Owner"},
            "data": [_remote_ref(file_name, f) for file_name, f in vault.delivered_files()],
        }
    }
    store_res = resource(ESO_API, "SecretStore", store_name, w.namespace, store, source)
    store_res = _with_deps(store_res, account_keys(spec, w.namespace, [service_account_of(spec, name)]))
    external = resource(
        ESO_API,
        "ExternalSecret",
        synced_secret_name(name),
        w.namespace,
        body,
        source,
        depends_on=(store_res.key,),
    )
    return [store_res, external]


def _with_deps(res: Resource, deps: tuple[str, ...]) -> Resource:
    return replace(res, depends_on=tuple(dict.fromkeys((*res.depends_on, *deps))))


def _ca_provider(s: VaultSettings) -> Manifest:
    if s.ca_cert is None:
        return {}
    return {"caProvider": {"type": "ConfigMap", "name": s.ca_cert.config_map, "key": s.ca_cert.key}}


def _remote_ref(file_name: str, f: VaultFile) -> Manifest:
    ref: Manifest = {"key": f.path}
    if f.file_format == "raw" and f.key is not None:
        ref["property"] = f.key
    # Without a property the operator returns the path's whole data as one JSON document.
    return {"secretKey": file_name, "remoteRef": ref}


def operator_needs_egress(spec: Spec) -> bool:
    """Whether the External Secrets pods need an egress policy to Vault (see _operator_egress)."""
    s = spec.vault
    if s is None or s.external_secrets is None or not s.network:
        return False
    if not any(w.vault is not None and w.vault.deliver == "externalSecrets" for w in spec.workloads.values()):
        return False
    ns = spec.namespaces.get(s.external_secrets.namespace)
    return ns is not None and ns.network == "default-deny"


def _operator_egress(spec: Spec) -> list[Resource]:
    """Egress from the External Secrets pods to Vault, when their namespace is a default-deny one here.

    Only then: in a namespace without a default deny, a policy selecting the operator's pods
    for egress would cut every other connection they make (the API server first).
    """
    if spec.kubernetes.network_plugin == "cilium" or not operator_needs_egress(spec):
        return []  # on cilium, compile/kubernetes/cilium.py renders it
    s = spec.vault
    assert s is not None and s.external_secrets is not None
    eso = s.external_secrets
    peers = [p for peer in s.network for p in to_np_peers(spec, eso.namespace, peer, eso.namespace)]
    if not peers:
        return []  # only domains (check SA153): an empty `to` would allow every destination
    body = {
        "spec": {
            "podSelector": {"matchLabels": dict(eso.pods)},
            "policyTypes": ["Egress"],
            "egress": [{"to": peers, "ports": [{"protocol": "TCP", "port": s.port}]}],
        }
    }
    return [
        resource(
            NETPOL,
            "NetworkPolicy",
            "external-secrets-to-vault",
            eso.namespace,
            body,
            ("vault", "externalSecrets"),
        )
    ]
