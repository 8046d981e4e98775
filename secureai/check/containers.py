"""Containers are well-formed: extended resources, probe ports, init containers, versions, names."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic.alias_generators import to_camel

from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error, warning
from secureai.model.containers import ContainerFields, is_extended
from secureai.model.health import Probe
from secureai.model.spec import Spec, Workload
from secureai.model.versions import LIFECYCLE_SLEEP, NATIVE_SIDECARS

_PROBES = (
    ("liveness_probe", "livenessProbe"),
    ("readiness_probe", "readinessProbe"),
    ("startup_probe", "startupProbe"),
)
_WHOLE = re.compile(r"^[0-9]+$")


def check_containers(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        if w.external:
            continue
        base: SpecPath = ("workloads", name)
        for owner, path, c in _containers(name, w, base):
            out.extend(_extended_resources(owner, c, path))
            out.extend(_probe_ports(owner, c, path))
            out.extend(_lifecycle_version(spec, owner, c, path))
            out.extend(
                error(
                    "SA132",
                    f"{owner} gives a port range (endPort): a container port is one port; "
                    "ranges are for network rules",
                    (*path, "ports", i, "endPort"),
                )
                for i, port in enumerate(c.ports)
                if port.end_port is not None
            )
        for init_name, c in w.init_containers.items():
            out.extend(_init_only_fields(name, init_name, c, (*base, "initContainers", init_name)))
        out.extend(_container_names(name, w, base))
        if w.sidecars and w.kind in ("Job", "CronJob") and spec.minor < NATIVE_SIDECARS:
            out.append(
                warning(
                    "SA221",
                    f"workload '{name}' is a {w.kind} with sidecars on Kubernetes {spec.kubernetes.version}: "
                    f"before 1.{NATIVE_SIDECARS} they are ordinary containers, and the Job does not "
                    "complete while they run",
                    (*base, "sidecars"),
                    hint=f"target 1.{NATIVE_SIDECARS} or later for native sidecars, or make the sidecar exit",
                )
            )
    return out


def _containers(name: str, w: Workload, base: SpecPath) -> Iterator[tuple[str, SpecPath, ContainerFields]]:
    yield f"workload '{name}'", base, w
    for kind, key, group in (
        ("init container", "initContainers", w.init_containers),
        ("sidecar", "sidecars", w.sidecars),
    ):
        for c_name, c in group.items():
            yield f"{kind} '{c_name}' of workload '{name}'", (*base, key, c_name), c


def _extended_resources(owner: str, c: ContainerFields, base: SpecPath) -> list[Diagnostic]:
    if c.resources is None:
        return []
    out: list[Diagnostic] = []
    requests, limits = c.resources.requests or {}, c.resources.limits or {}
    for side, amounts in (("requests", requests), ("limits", limits)):
        for res, amount in amounts.items():
            if is_extended(res) and not _WHOLE.match(amount):
                out.append(
                    error(
                        "SA171",
                        f"{owner} asks for {amount} of {res}: extended resources are whole numbers",
                        (*base, "resources", side, res),
                    )
                )
    for res, amount in requests.items():
        if is_extended(res) and res in limits and limits[res] != amount:
            out.append(
                error(
                    "SA170",
                    f"{owner} requests {amount} of {res} but limits it to {limits[res]}: Kubernetes "
                    "requires requests and limits of an extended resource to be equal",
                    (*base, "resources", "limits", res),
                    hint="give one of them only; secureai sets the other to the same amount",
                )
            )
    return out


def _probe_ports(owner: str, c: ContainerFields, base: SpecPath) -> list[Diagnostic]:
    names = [p.name for p in c.ports if p.name is not None]
    out: list[Diagnostic] = []
    refs: list[tuple[object, SpecPath]] = []
    for field, key in _PROBES:
        probe: Probe | None = getattr(c, field)
        if probe is None:
            continue
        for action in ("http_get", "tcp_socket", "grpc"):
            handler = getattr(probe, action)
            if handler is not None:
                refs.append((handler.port, (*base, key, to_camel(action), "port")))
    if c.lifecycle is not None:
        for hook, key in ((c.lifecycle.post_start, "postStart"), (c.lifecycle.pre_stop, "preStop")):
            if hook is not None and hook.http_get is not None:
                refs.append((hook.http_get.port, (*base, "lifecycle", key, "httpGet", "port")))
    for port, path in refs:
        if isinstance(port, str) and port not in names:
            out.append(
                error(
                    "SA172",
                    f"{owner} has no port named '{port}'{did_you_mean(port, names)}",
                    path,
                    hint="name the port in 'ports' (e.g. http:8080), or give the number",
                )
            )
    return out


def _lifecycle_version(spec: Spec, owner: str, c: ContainerFields, base: SpecPath) -> list[Diagnostic]:
    if c.lifecycle is None or spec.minor >= LIFECYCLE_SLEEP:
        return []
    return [
        error(
            "SA179",
            f"{owner} uses a sleep lifecycle hook, which Kubernetes {spec.kubernetes.version} does not have "
            f"(from 1.{LIFECYCLE_SLEEP})",
            (*base, "lifecycle", key, "sleep"),
            hint="use an exec hook such as ['sleep', '5'], or target a newer version",
        )
        for hook, key in ((c.lifecycle.post_start, "postStart"), (c.lifecycle.pre_stop, "preStop"))
        if hook is not None and hook.sleep is not None
    ]


def _init_only_fields(workload: str, name: str, c: ContainerFields, base: SpecPath) -> list[Diagnostic]:
    """Init containers run to completion before the pod starts: the API refuses probes and
    hooks on them (a sidecar, which keeps running, may have them)."""
    fields = [key for field, key in (*_PROBES, ("lifecycle", "lifecycle")) if getattr(c, field) is not None]
    return [
        error(
            "SA180",
            f"init container '{name}' of workload '{workload}' cannot have '{key}': init containers "
            "run to completion before the pod starts",
            (*base, key),
            hint="move it to 'sidecars' if it keeps running beside the workload",
        )
        for key in fields
    ]


def _container_names(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    seen = {name: "the workload's own container"}
    out: list[Diagnostic] = []
    for key, group in (("initContainers", w.init_containers), ("sidecars", w.sidecars)):
        for c_name in group:
            if c_name in seen:
                out.append(
                    error(
                        "SA181",
                        f"workload '{name}' has two containers named '{c_name}' "
                        f"({seen[c_name]} and this one)",
                        (*base, key, c_name),
                    )
                )
            seen.setdefault(c_name, f"{key} '{c_name}'")
    return out
