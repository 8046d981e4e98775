"""One hardened container: its security context, image, command, env, ports, resources, probes.

`hardened_container` is the one way a container is built, for the workload's own container,
its init containers and sidecars, and any container secureai adds to the pod, so that every
container gets the same locked-down security context from the workload's profile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from secureai.compile.kubernetes.common import Manifest
from secureai.model.containers import ContainerFields, EnvFrom, EnvValue, Resources, is_extended
from secureai.model.health import Lifecycle, LifecycleHandler, Probe
from secureai.model.ports import PortSpec
from secureai.model.security import SecurityProfile

# Capabilities that only make sense with escalation: the API rejects them with
# allowPrivilegeEscalation: false, so asking for them implies escalation.
_ESCALATING_CAPS = {"SYS_ADMIN", "CAP_SYS_ADMIN"}
_PROBES = (
    ("livenessProbe", "liveness_probe"),
    ("readinessProbe", "readiness_probe"),
    ("startupProbe", "startup_probe"),
)


class ContainerSource(Protocol):
    """The least a container is built from. A spec container (`ContainerFields`) has more
    (probes, hooks, envFrom, workingDir, pull policy), which are added when present."""

    @property
    def image(self) -> str | None: ...
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


def container_security_context(profile: SecurityProfile, relaxed: Collection[str] = ()) -> Manifest:
    """The profile's container security context; `relaxed` names the hardened defaults a
    workload gave up with a written reason (its `exceptions`)."""
    caps = list(profile.allowed_capabilities)
    escalation = (
        profile.allow_privilege_escalation
        or profile.privileged
        or bool(_ESCALATING_CAPS & set(caps))
        or "allowPrivilegeEscalation" in relaxed
    )
    capabilities: Manifest = {"drop": ["ALL"]}
    if caps:
        capabilities["add"] = caps
    out: Manifest = {
        "allowPrivilegeEscalation": escalation,
        "capabilities": capabilities,
        "privileged": profile.privileged,
        "readOnlyRootFilesystem": profile.read_only_root_filesystem
        and "readOnlyRootFilesystem" not in relaxed,
    }
    if profile.run_as_non_root and "runAsNonRoot" not in relaxed:
        out["runAsNonRoot"] = True
    return out


def hardened_container(
    name: str,
    source: ContainerSource,
    profile: SecurityProfile,
    mounts: Sequence[Manifest] = (),
    relaxed: Collection[str] = (),
) -> Manifest:
    """The container `name` built from `source`, locked down as `profile` says."""
    container: Manifest = {
        "name": name,
        "image": source.image,
        # Always, unless the spec says otherwise: see ContainerFields.image_pull_policy.
        "imagePullPolicy": getattr(source, "image_pull_policy", "Always"),
        "securityContext": container_security_context(profile, relaxed),
    }
    if source.command is not None:
        container["command"] = list(source.command)
    if source.args is not None:
        container["args"] = list(source.args)
    full = source if isinstance(source, ContainerFields) else None
    if full is not None and full.working_dir is not None:
        container["workingDir"] = full.working_dir
    if source.env:
        container["env"] = [env_var(n, value) for n, value in source.env.items()]
    if full is not None and full.env_from:
        container["envFrom"] = [_env_from(e) for e in full.env_from]
    if source.ports:
        container["ports"] = [container_port(p) for p in source.ports]
    if source.resources is not None:
        amounts = container_resources(source.resources)
        if amounts:
            container["resources"] = amounts
    if full is not None:
        named = {p.name: p.port for p in full.ports if p.name is not None}
        for key, field in _PROBES:
            probe: Probe | None = getattr(full, field)
            if probe is not None:
                container[key] = _probe(probe, named)
        if full.lifecycle is not None:
            container["lifecycle"] = _lifecycle(full.lifecycle)
    if mounts:
        container["volumeMounts"] = list(mounts)
    return container


def container_resources(resources: Resources) -> Manifest:
    """Requests and limits; an extended resource given on one side only is set on both, as
    Kubernetes requires them equal (a check reports them when both are given and differ)."""
    requests = dict(resources.requests or {})
    limits = dict(resources.limits or {})
    for name, amount in list(requests.items()):
        if is_extended(name):
            limits.setdefault(name, amount)
    for name, amount in list(limits.items()):
        if is_extended(name):
            requests.setdefault(name, amount)
    out: Manifest = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def env_var(name: str, value: EnvValue) -> Manifest:
    if value.value is not None:
        return {"name": name, "value": value.value}
    if value.field_ref is not None:
        return {"name": name, "valueFrom": {"fieldRef": _dump(value.field_ref)}}
    if value.resource_field_ref is not None:
        return {"name": name, "valueFrom": {"resourceFieldRef": _dump(value.resource_field_ref)}}
    ref: Manifest = {"name": value.secret or value.config_map, "key": value.key}
    if value.optional is not None:
        ref["optional"] = value.optional
    kind = "secretKeyRef" if value.secret is not None else "configMapKeyRef"
    return {"name": name, "valueFrom": {kind: ref}}


def _env_from(entry: EnvFrom) -> Manifest:
    out: Manifest = (
        {"configMapRef": {"name": entry.config_map}}
        if entry.config_map is not None
        else {"secretRef": {"name": entry.secret}}
    )
    if entry.prefix is not None:
        out["prefix"] = entry.prefix
    return out


def container_port(port: PortSpec) -> Manifest:
    out: Manifest = {"containerPort": port.port, "protocol": port.protocol}
    if port.name is not None:
        out["name"] = port.name
    return out


def _probe(probe: Probe, named: dict[str, int]) -> Manifest:
    out = _dump(probe)
    if probe.grpc is not None and isinstance(probe.grpc.port, str):
        # gRPC probes take a number only; the name is resolved here (a check proved it exists).
        out["grpc"]["port"] = named.get(probe.grpc.port, 0)
    return out


def _lifecycle(lifecycle: Lifecycle) -> Manifest:
    out: Manifest = {}
    for key, handler in (("postStart", lifecycle.post_start), ("preStop", lifecycle.pre_stop)):
        if handler is not None:
            out[key] = _handler(handler)
    return out


def _handler(handler: LifecycleHandler) -> Manifest:
    return _dump(handler)


def _dump(model: Any) -> Manifest:
    dumped: Manifest = drop_empty(model.model_dump(by_alias=True, exclude_none=True))
    return dumped


def drop_empty(value: Any) -> Any:
    """Empty lists and maps the spec did not write are left out, as `kubectl` would print them."""
    if isinstance(value, dict):
        return {k: drop_empty(v) for k, v in value.items() if v not in ([], {})}
    if isinstance(value, list):
        return [drop_empty(v) for v in value]
    return value
