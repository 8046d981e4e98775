"""The hardened pod spec of one workload: security contexts, account, env, volumes, ports.

Known limitation: `runAsNonRoot: true` is checked by the kubelet against the user the container
will run as. With no `runAsUser` in the spec that is the image's USER, and the kubelet refuses
to start the container (CreateContainerConfigError) when the image runs as root, or names its
user by name (`USER postgres`), since it cannot prove a name is non-root. Such images need
`runAsUser` (the image's numeric uid) in the spec; nothing here can know it at compile time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.naming import service_account_of
from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.spec import EnvValue, PortSpec, SecurityProfile, Spec, Volume, Workload
from secureai.model.versions import BOUND_TOKENS_MINOR

# A workload without a profile gets the model's defaults, which are the secure choice.
VAULT_TOKEN_VOLUME = "secureai-vault-token"
VAULT_TOKEN_SECONDS = 600  # short-lived: the kubelet rotates it, Vault login reads it fresh
TMP_VOLUME = "secureai-tmp"
# Capabilities that only make sense with escalation: the API rejects them with
# allowPrivilegeEscalation: false, so asking for them implies escalation.
_ESCALATING_CAPS = {"SYS_ADMIN", "CAP_SYS_ADMIN"}


@functools.cache
def _default_profile() -> SecurityProfile:
    # Built on first use, not at import: building a model costs `validate`'s start-up time.
    return SecurityProfile()


@dataclass
class PodContext:
    """What building one pod spec needs to know beyond the workload itself."""

    spec: Spec
    name: str
    workload: Workload
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def path(self) -> SpecPath:
        return ("workloads", self.name)

    @property
    def profile(self) -> SecurityProfile:
        return self.spec.security_profiles.get(self.workload.security_profile or "") or _default_profile()

    @property
    def profile_name(self) -> str:
        return self.workload.security_profile or "default"

    @property
    def account(self) -> str:
        return service_account_of(self.spec, self.name)

    @property
    def needs_api_token(self) -> bool:
        """RBAC grants are only usable with an API token, so only then is one mounted."""
        access = self.spec.access.get(self.account)
        return access is not None and access.namespace == self.workload.namespace and bool(access.can)


def pod_spec(ctx: PodContext) -> Manifest:
    _check_token_volumes(ctx)
    volumes, mounts = _volumes(ctx)
    spec: Manifest = {
        "serviceAccountName": ctx.account,
        "automountServiceAccountToken": ctx.needs_api_token,
        "securityContext": _pod_security_context(ctx),
        "containers": [_container(ctx, mounts)],
    }
    spec.update(_host_namespaces(ctx.profile))
    if volumes:
        spec["volumes"] = volumes
    return spec


def _pod_security_context(ctx: PodContext) -> Manifest:
    w, profile = ctx.workload, ctx.profile
    out: Manifest = {"seccompProfile": _seccomp(ctx)}
    if profile.run_as_non_root:
        out["runAsNonRoot"] = True
    for key, value in (
        ("runAsUser", w.run_as_user),
        ("runAsGroup", w.run_as_group),
        ("fsGroup", w.fs_group),
    ):
        if value is not None:
            out[key] = value
    return out


def _seccomp(ctx: PodContext) -> Manifest:
    if ctx.profile.seccomp_profile == "RuntimeDefault":
        return {"type": "RuntimeDefault"}
    path = ctx.profile.localhost_profile_path(ctx.profile_name)
    ctx.diagnostics.append(
        warning(
            "SA251",
            f"workload '{ctx.name}' uses a Localhost seccomp profile: every node must have "
            f"'{path}' under the kubelet's seccomp directory",
            (*ctx.path, "securityProfile"),
            hint="install the profile on the nodes (e.g. with the Security Profiles Operator)",
        )
    )
    return {"type": "Localhost", "localhostProfile": path}


def container_security_context(profile: SecurityProfile) -> Manifest:
    caps = list(profile.allowed_capabilities)
    escalation = (
        profile.allow_privilege_escalation or profile.privileged or bool(_ESCALATING_CAPS & set(caps))
    )
    capabilities: Manifest = {"drop": ["ALL"]}
    if caps:
        capabilities["add"] = caps
    out: Manifest = {
        "allowPrivilegeEscalation": escalation,
        "capabilities": capabilities,
        "privileged": profile.privileged,
        "readOnlyRootFilesystem": profile.read_only_root_filesystem,
    }
    if profile.run_as_non_root:
        out["runAsNonRoot"] = True
    return out


def _host_namespaces(profile: SecurityProfile) -> Manifest:
    # Only set when the profile asks: the default (false) needs no key.
    flags = (
        ("hostNetwork", profile.host_network),
        ("hostPID", profile.host_pid),
        ("hostIPC", profile.host_ipc),
    )
    return {key: True for key, on in flags if on}


def _container(ctx: PodContext, mounts: list[Manifest]) -> Manifest:
    w = ctx.workload
    container: Manifest = {
        "name": ctx.name,
        "image": w.image,
        "securityContext": container_security_context(ctx.profile),
    }
    if w.command is not None:
        container["command"] = list(w.command)
    if w.args is not None:
        container["args"] = list(w.args)
    if w.env:
        container["env"] = [_env(name, value) for name, value in w.env.items()]
    if w.ports:
        container["ports"] = [_port(p) for p in w.ports]
    if w.resources is not None:
        amounts = w.resources.model_dump(by_alias=True, exclude_none=True)
        if amounts:
            container["resources"] = amounts
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _env(name: str, value: EnvValue) -> Manifest:
    if value.value is not None:
        return {"name": name, "value": value.value}
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": value.secret, "key": value.key}}}


def _port(port: PortSpec) -> Manifest:
    out: Manifest = {"containerPort": port.port, "protocol": port.protocol}
    if port.name is not None:
        out["name"] = port.name
    return out


def _volumes(ctx: PodContext) -> tuple[list[Manifest], list[Manifest]]:
    volumes: list[Manifest] = []
    mounts: list[Manifest] = []
    taken = set(ctx.workload.volumes)
    for name, vol in ctx.workload.volumes.items():
        volumes.append({"name": name, **_volume_source(vol)})
        mounts.append({"name": name, "mountPath": vol.mount_path, "readOnly": vol.read_only})
    if ctx.workload.vault is not None:
        name = _own_name(VAULT_TOKEN_VOLUME, taken)
        volumes.append({"name": name, **_vault_token_source(ctx)})
        mounts.append({"name": name, "mountPath": VAULT_TOKEN_DIR, "readOnly": True})
    if _wants_tmp(ctx):
        # Most images write to /tmp; with a read-only root filesystem they fail without a
        # writable scratch directory, so one is added unless the spec mounts /tmp itself.
        name = _own_name(TMP_VOLUME, taken)
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": "/tmp", "readOnly": False})
    return volumes, mounts


def _own_name(base: str, taken: set[str]) -> str:
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


def _vault_token_source(ctx: PodContext) -> Manifest:
    """A token only Vault accepts (its audience), so the API token need not be mounted."""
    audience = ctx.spec.vault.audience if ctx.spec.vault is not None else "vault"
    token = {"audience": audience, "expirationSeconds": VAULT_TOKEN_SECONDS, "path": "token"}
    return {"projected": {"sources": [{"serviceAccountToken": token}]}}


def _wants_tmp(ctx: PodContext) -> bool:
    profile = ctx.profile
    if not profile.read_only_root_filesystem or "emptyDir" not in profile.volumes:
        return False
    return all(vol.mount_path.rstrip("/") != "/tmp" for vol in ctx.workload.volumes.values())


def _check_token_volumes(ctx: PodContext) -> None:
    """The API token arrives in a volume the profile must allow, or no pod is admitted.

    (The Vault token's projected volume is checked earlier, by SA306.)
    """
    if not ctx.needs_api_token:
        return
    kind = "projected" if ctx.spec.minor >= BOUND_TOKENS_MINOR else "secret"
    if kind not in ctx.profile.volumes:
        ctx.diagnostics.append(
            error(
                "SA250",
                f"workload '{ctx.name}' needs its API token (a {kind} volume) for the access "
                f"grants of '{ctx.account}', but its security profile '{ctx.profile_name}' does "
                f"not allow {kind} volumes",
                (*ctx.path, "securityProfile"),
                hint=f"add '{kind}' to the profile's volumes",
            )
        )
