"""Check every compiled pod template against its namespace's Pod Security Standard.

The rules are those of the Kubernetes Pod Security Standards (baseline, and restricted on top
of it), read off the compiled manifests, so what is checked is exactly what the cluster would
see. A violation is an error: Pod Security Admission would reject the pods. Each rule has its
own code, and the diagnostic points at the spec field that caused it.

The rules follow Pod Security Admission's own checks (k8s.io/pod-security-admission/policy),
including where they differ from a naive reading of the standard: a container setting
overrides the pod's (seccomp, runAsNonRoot), an explicit bad value at either level is a
violation even when the other level is fine, and init and ephemeral containers count. Lists
that grew over time (safe sysctls, SELinux types) follow the target version, because the
namespaces' Pod Security labels pin the standard to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from secureai.compile.plan import Plan, Resource
from secureai.diagnostics import Diagnostic, SpecPath, error
from secureai.model.spec import Spec
from secureai.model.versions import PROBE_HOST_RULE

WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "Job", "CronJob"}
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
RESTRICTED_VOLUMES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",  # OCI image volumes: admitted by restricted since Kubernetes 1.33 (all pinned versions)
    "persistentVolumeClaim",
    "projected",
    "secret",
)
# Safe sysctls by the minor version that added them (check_sysctls.go).
SAFE_SYSCTLS: Mapping[str, int] = {
    "kernel.shm_rmid_forced": 0,
    "net.ipv4.ip_local_port_range": 0,
    "net.ipv4.ip_unprivileged_port_start": 0,
    "net.ipv4.tcp_syncookies": 0,
    "net.ipv4.ping_group_range": 0,
    "net.ipv4.ip_local_reserved_ports": 27,
    "net.ipv4.tcp_keepalive_time": 29,
    "net.ipv4.tcp_fin_timeout": 29,
    "net.ipv4.tcp_keepalive_intvl": 29,
    "net.ipv4.tcp_keepalive_probes": 29,
    "net.ipv4.tcp_rmem": 32,
    "net.ipv4.tcp_wmem": 32,
}
# Allowed SELinux types by the minor version that added them (check_seLinuxOptions.go).
SELINUX_TYPES: Mapping[str, int] = {
    "": 0,
    "container_t": 0,
    "container_init_t": 0,
    "container_kvm_t": 0,
    "container_engine_t": 31,
}
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
LATEST = 10**6  # a pod checked without a target: the newest lists apply


@dataclass(frozen=True)
class Pod:
    """One workload's pod template, as the compiled manifest has it."""

    workload: str
    spec: Mapping[str, Any]
    annotations: Mapping[str, str]
    minor: int = LATEST  # the target's minor version, which the namespace labels pin

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        kinds = ("initContainers", "containers", "ephemeralContainers")
        return [c for kind in kinds for c in self.spec.get(kind, [])]

    @property
    def context(self) -> Mapping[str, Any]:
        context: Mapping[str, Any] = self.spec.get("securityContext", {})
        return context


@dataclass(frozen=True)
class Finding:
    code: str
    what: str
    where: str  # "profile", "runAsUser", "ports", "workload", "volumes/<name>" or "container"
    # For "container": the compiled container's name, then the field's path inside it, which
    # _path maps back to the main container, an init container or a sidecar.
    field: tuple[Any, ...] = ()


Rule = Callable[[Pod], Iterator[Finding]]


def _sc(container: Mapping[str, Any]) -> Mapping[str, Any]:
    context: Mapping[str, Any] = container.get("securityContext", {})
    return context


def _names(containers: list[Mapping[str, Any]]) -> str:
    return ", ".join(f"'{c.get('name')}'" for c in containers)


# ------------------------------------------------------------------------------ baseline


def _privileged(pod: Pod) -> Iterator[Finding]:
    bad = [c for c in pod.containers if _sc(c).get("privileged") is True]
    if bad:
        yield Finding("SA201", f"privileged containers are not allowed ({_names(bad)})", "profile")


def _host_namespaces(pod: Pod) -> Iterator[Finding]:
    bad = [key for key in ("hostNetwork", "hostPID", "hostIPC") if pod.spec.get(key) is True]
    if bad:
        yield Finding("SA202", f"sharing host namespaces is not allowed ({', '.join(bad)})", "profile")


def _host_process(pod: Pod) -> Iterator[Finding]:
    contexts = [pod.context, *(_sc(c) for c in pod.containers)]
    if any(ctx.get("windowsOptions", {}).get("hostProcess") is True for ctx in contexts):
        yield Finding("SA216", "Windows HostProcess containers are not allowed", "workload")


def _host_path(pod: Pod) -> Iterator[Finding]:
    for volume in pod.spec.get("volumes", []):
        if "hostPath" in volume:
            yield Finding(
                "SA203",
                f"hostPath volume '{volume['name']}' is not allowed",
                f"volumes/{volume['name']}",
            )


def _added(container: Mapping[str, Any]) -> list[str]:
    return list(_sc(container).get("capabilities", {}).get("add", []))


def _capabilities(allowed: frozenset[str]) -> Rule:
    def rule(pod: Pod) -> Iterator[Finding]:
        extra = sorted({cap for c in pod.containers for cap in _added(c)} - allowed)
        if extra:
            yield Finding("SA204", f"adding capabilities {', '.join(extra)} is not allowed", "profile")

    return rule


def _host_ports(pod: Pod) -> Iterator[Finding]:
    ports = [p for c in pod.containers for p in c.get("ports", []) if p.get("hostPort", 0) != 0]
    if ports:
        shown = ", ".join(str(p["hostPort"]) for p in ports)
        yield Finding("SA211", f"host ports are not allowed ({shown})", "ports")


def _app_armor(pod: Pod) -> Iterator[Finding]:
    def bad(value: Any) -> bool:
        # An empty annotation means "the default profile", as an absent one does.
        return value not in (None, "", "runtime/default") and not str(value).startswith("localhost/")

    def bad_field(ctx: Mapping[str, Any]) -> bool:
        return ctx.get("appArmorProfile", {}).get("type") not in (
            None,
            "RuntimeDefault",
            "Localhost",
        )

    annotated = [k for k, v in pod.annotations.items() if k.startswith(APPARMOR_PREFIX) and bad(v)]
    if annotated or bad_field(pod.context) or any(bad_field(_sc(c)) for c in pod.containers):
        yield Finding("SA212", "AppArmor may only be RuntimeDefault or Localhost", "workload")


def _se_linux(pod: Pod) -> Iterator[Finding]:
    allowed = {t for t, since in SELINUX_TYPES.items() if pod.minor >= since}

    def bad(ctx: Mapping[str, Any]) -> bool:
        options = ctx.get("seLinuxOptions", {})
        # An empty user or role is the same as none; only a set one is custom.
        custom = bool(options.get("user")) or bool(options.get("role"))
        return custom or options.get("type", "") not in allowed

    if bad(pod.context) or any(bad(_sc(c)) for c in pod.containers):
        yield Finding("SA213", "custom SELinux users, roles or types are not allowed", "workload")


def _proc_mount(pod: Pod) -> Iterator[Finding]:
    if any(_sc(c).get("procMount", "Default") != "Default" for c in pod.containers):
        yield Finding("SA214", "procMount must be Default", "workload")


def _seccomp_type(ctx: Mapping[str, Any]) -> Any:
    return ctx.get("seccompProfile", {}).get("type")


def _unconfined(pod: Pod) -> Iterator[Finding]:
    contexts = [pod.context, *(_sc(c) for c in pod.containers)]
    if any(_seccomp_type(ctx) == "Unconfined" for ctx in contexts):
        yield Finding("SA208", "the Unconfined seccomp profile is not allowed", "profile")


def _probe_host(pod: Pod) -> Iterator[Finding]:
    """From 1.34 probes and lifecycle hooks may not name a `host`: the kubelet would connect
    from the node to any address, on the pod's behalf (check_probesAndLifecycleHandlers.go).
    One finding per `host`, at that field of the container that sets it."""
    if pod.minor < PROBE_HOST_RULE:
        return
    for container in pod.containers:
        handlers = [
            *((key,) for key in ("livenessProbe", "readinessProbe", "startupProbe")),
            *(("lifecycle", hook) for hook in container.get("lifecycle", {})),
        ]
        for handler in handlers:
            action: Mapping[str, Any] = container
            for key in handler:
                action = action.get(key, {})
            for kind in ("httpGet", "tcpSocket"):
                if action.get(kind, {}).get("host"):
                    yield Finding(
                        "SA220",
                        "probes and lifecycle hooks may not set 'host'",
                        "container",
                        (container.get("name", ""), *handler, kind, "host"),
                    )


def _sysctls(pod: Pod) -> Iterator[Finding]:
    safe = {name for name, since in SAFE_SYSCTLS.items() if pod.minor >= since}
    unsafe = sorted(s.get("name", "") for s in pod.context.get("sysctls", []) if s.get("name") not in safe)
    if unsafe:
        yield Finding("SA215", f"sysctls {', '.join(unsafe)} are not allowed", "workload")


# ------------------------------------------------------------------------------ restricted


def _volume_types(pod: Pod) -> Iterator[Finding]:
    for volume in pod.spec.get("volumes", []):
        kinds = [k for k in volume if k != "name"]
        if kinds and kinds[0] not in RESTRICTED_VOLUMES and kinds[0] != "hostPath":  # hostPath: SA203
            yield Finding(
                "SA209",
                f"volume '{volume['name']}' has type {kinds[0]}; allowed are {', '.join(RESTRICTED_VOLUMES)}",
                f"volumes/{volume['name']}",
            )


def _escalation(pod: Pod) -> Iterator[Finding]:
    bad = [c for c in pod.containers if _sc(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        yield Finding(
            "SA205",
            f"containers must set allowPrivilegeEscalation: false ({_names(bad)})",
            "profile",
        )


def _non_root(pod: Pod) -> Iterator[Finding]:
    """A container's runAsNonRoot overrides the pod's; an explicit false anywhere is a violation.

    (So a pod-level false is rejected even when every container sets true, as PSA does.)
    """
    pod_value = pod.context.get("runAsNonRoot")
    bad = [
        c
        for c in pod.containers
        if _sc(c).get("runAsNonRoot") is False or ("runAsNonRoot" not in _sc(c) and pod_value is not True)
    ]
    if pod_value is False or bad:
        who = _names(bad) if bad else "pod"
        yield Finding("SA206", f"containers must run as non-root (runAsNonRoot: true) ({who})", "profile")


def _root_user(pod: Pod) -> Iterator[Finding]:
    contexts = [pod.context, *(_sc(c) for c in pod.containers)]
    if any(ctx.get("runAsUser") == 0 for ctx in contexts):
        yield Finding("SA207", "runAsUser must not be 0 (root)", "runAsUser")


def _seccomp_required(pod: Pod) -> Iterator[Finding]:
    """Set at pod level or on every container, and wherever set, RuntimeDefault or Localhost.

    A container's profile overrides the pod's, but an explicit bad value is a violation at
    either level: a pod-level Unconfined fails even if every container overrides it, and a
    container's Unconfined fails even under a pod-level RuntimeDefault.
    """
    pod_set = "seccompProfile" in pod.context
    pod_bad = pod_set and _seccomp_type(pod.context) not in SECCOMP_ALLOWED
    bad = [
        c
        for c in pod.containers
        if ("seccompProfile" in _sc(c) and _seccomp_type(_sc(c)) not in SECCOMP_ALLOWED)
        or ("seccompProfile" not in _sc(c) and (not pod_set or pod_bad))
    ]
    if pod_bad or bad:
        yield Finding("SA208", "the seccomp profile must be RuntimeDefault or Localhost", "profile")


def _drop_all(pod: Pod) -> Iterator[Finding]:
    bad = [c for c in pod.containers if "ALL" not in _sc(c).get("capabilities", {}).get("drop", [])]
    if bad:
        yield Finding("SA210", f"containers must drop ALL capabilities ({_names(bad)})", "profile")


BASELINE: tuple[Rule, ...] = (
    _privileged,
    _host_namespaces,
    _host_process,
    _host_path,
    _capabilities(BASELINE_CAPABILITIES),
    _host_ports,
    _app_armor,
    _se_linux,
    _proc_mount,
    _unconfined,
    _sysctls,
    _probe_host,
)
# Restricted replaces baseline's capability and seccomp rules with stricter ones.
RESTRICTED: tuple[Rule, ...] = (
    _privileged,
    _host_namespaces,
    _host_process,
    _host_path,
    _capabilities(RESTRICTED_CAPABILITIES),
    _host_ports,
    _app_armor,
    _se_linux,
    _proc_mount,
    _seccomp_required,
    _sysctls,
    _probe_host,
    _volume_types,
    _escalation,
    _non_root,
    _root_user,
    _drop_all,
)


def check_pod_security(spec: Spec, plan: Plan) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for resource in plan.resources:
        pod = pod_of(resource)
        if pod is None:
            continue
        namespace = resource.properties["metadata"].get("namespace", "")
        declared = spec.namespaces.get(namespace)
        if declared is None or declared.pod_security == "privileged":
            continue
        rules = RESTRICTED if declared.pod_security == "restricted" else BASELINE
        pod = replace(pod, minor=spec.minor)
        for rule in rules:
            for finding in rule(pod):
                out.append(_diagnostic(spec, pod, namespace, declared.pod_security, finding))
    return out


def pod_of(resource: Resource) -> Pod | None:
    """The pod template of a workload resource, or None for anything else."""
    props = resource.properties
    if resource.provider != "kubernetes" or props.get("kind") not in WORKLOAD_KINDS:
        return None
    if props["kind"] == "Pod":
        template = props
    elif props["kind"] == "CronJob":
        template = props["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = props["spec"]["template"]
    name = str(resource.source[1]) if resource.source[:1] == ("workloads",) else props["metadata"]["name"]
    annotations = template.get("metadata", {}).get("annotations", {})
    return Pod(name, template["spec"], annotations)


def _diagnostic(spec: Spec, pod: Pod, namespace: str, level: str, finding: Finding) -> Diagnostic:
    message = (
        f"workload '{pod.workload}' violates the {level} Pod Security Standard of namespace "
        f"'{namespace}': {finding.what}"
    )
    return error(
        finding.code,
        message,
        _path(spec, pod.workload, finding.where, finding.field),
        hint=_hint(spec, pod.workload, finding.where),
    )


def _path(spec: Spec, workload: str, where: str, field: tuple[Any, ...] = ()) -> SpecPath:
    base: SpecPath = ("workloads", workload)
    w = spec.workloads.get(workload)
    if where == "container" and w is not None:
        name, *inside = field
        # Container names are unique in a workload (SA181), so the name says which one it is.
        if name == workload:
            return (*base, *inside)
        for group, containers in (("sidecars", w.sidecars), ("initContainers", w.init_containers)):
            if name in containers:
                return (*base, group, name, *inside)
        return base  # a container secureai adds (the Vault agent): the workload
    if where == "profile":
        return (*base, "securityProfile") if w is not None and w.security_profile else base
    if where.startswith("volumes/"):
        return (*base, "volumes", where.split("/", 1)[1])
    if where == "runAsUser" and w is not None and w.run_as_user is not None:
        return (*base, "runAsUser")
    if where == "ports" and w is not None and w.ports:
        return (*base, "ports")
    return base


def _hint(spec: Spec, workload: str, where: str) -> str:
    w = spec.workloads.get(workload)
    fix = "lower the namespace's podSecurity level"
    if where == "profile" and w is not None and w.security_profile:
        fix = f"change security profile '{w.security_profile}', or {fix}"
    elif where.startswith("volumes/"):
        fix = f"mount another volume type, or {fix}"
    elif where == "runAsUser":
        fix = f"run as a non-zero user id, or {fix}"
    elif where == "container":
        fix = f"remove 'host' (the kubelet then connects to the pod's own IP), or {fix}"
    return f"the cluster would reject its pods; {fix}"
