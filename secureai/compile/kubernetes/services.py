"""A workload's Services: a StatefulSet's headless governing Service and the `service:` one."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, resource
from secureai.compile.plan import Resource
from secureai.model.labels import APP_NAME
from secureai.model.ports import PortSpec
from secureai.model.workloads import Workload


def service_name(name: str, w: Workload) -> str:
    assert w.service is not None
    if w.service.name is not None:
        return str(w.service.name)
    # A StatefulSet's own name is taken by its headless Service.
    return f"{name}-client" if w.kind == "StatefulSet" else name


def _service_port(p: PortSpec) -> Manifest:
    return {
        "name": p.name or f"{p.protocol.lower()}-{p.port}",
        "port": p.port,
        "protocol": p.protocol,
        "targetPort": p.name or p.port,
    }


def headless_service(name: str, w: Workload) -> Resource:
    """A StatefulSet's governing Service: stable per-pod DNS names, no load-balanced IP."""
    spec: Manifest = {"clusterIP": "None", "selector": {APP_NAME: name}}
    if w.ports:
        spec["ports"] = [_service_port(p) for p in w.ports]
    return resource(
        "v1", "Service", name, w.namespace, {"spec": spec}, ("workloads", name), labels={APP_NAME: name}
    )


def workload_service(name: str, w: Workload) -> Resource | None:
    """The `service:` Service: the workload's ports the spec names (all by default)."""
    if w.service is None:
        return None
    wanted = w.service.ports
    ports = [p for p in w.ports if not wanted or p.name in wanted or p.port in wanted]
    spec: Manifest = {
        "type": w.service.type,
        "selector": {APP_NAME: name},
        "ports": [_service_port(p) for p in ports],
    }
    return resource(
        "v1",
        "Service",
        service_name(name, w),
        w.namespace,
        {"spec": spec},
        ("workloads", name, "service"),
        labels={APP_NAME: name},
        annotations=w.service.annotations,
    )
