"""One hardened container: its security context, image, command, env, ports, resources, mounts.

`hardened_container` is the one way a container is built, for the workload's own container
and for any container secureai adds to its pod, so that every container gets the same
locked-down security context from the workload's profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from secureai.compile.kubernetes.common import Manifest
from secureai.model.containers import EnvValue, Resources
from secureai.model.ports import PortSpec
from secureai.model.security import SecurityProfile

# Capabilities that only make sense with escalation: the API rejects them with
# allowPrivilegeEscalation: false, so asking for them implies escalation.
_ESCALATING_CAPS = {"SYS_ADMIN", "CAP_SYS_ADMIN"}


class ContainerSource(Protocol):
    """What a container is built from: a workload, or any model with these fields."""

    @property
    def image(self) -> str: ...
    @property
    def command(self) -> Sequence[str] | None: ...
    @property
    def args(self) -> Sequence[str] | None: ...
    @property
    def env(self) -> Mapping[str, EnvValue]: ...
    @property
    def ports(self) -> Sequence[PortSpec]: ...
    @property
    def resources(self) -> Resources | None: ...


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


def hardened_container(
    name: str, source: ContainerSource, profile: SecurityProfile, mounts: Sequence[Manifest] = ()
) -> Manifest:
    """The container `name` built from `source`, locked down as `profile` says."""
    container: Manifest = {
        "name": name,
        "image": source.image,
        "securityContext": container_security_context(profile),
    }
    if source.command is not None:
        container["command"] = list(source.command)
    if source.args is not None:
        container["args"] = list(source.args)
    if source.env:
        container["env"] = [env_var(n, value) for n, value in source.env.items()]
    if source.ports:
        container["ports"] = [container_port(p) for p in source.ports]
    if source.resources is not None:
        amounts = source.resources.model_dump(by_alias=True, exclude_none=True)
        if amounts:
            container["resources"] = amounts
    if mounts:
        container["volumeMounts"] = list(mounts)
    return container


def env_var(name: str, value: EnvValue) -> Manifest:
    if value.value is not None:
        return {"name": name, "value": value.value}
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": value.secret, "key": value.key}}}


def container_port(port: PortSpec) -> Manifest:
    out: Manifest = {"containerPort": port.port, "protocol": port.protocol}
    if port.name is not None:
        out["name"] = port.name
    return out
