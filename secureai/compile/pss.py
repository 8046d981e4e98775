"""Check every compiled pod template against its namespace's Pod Security Standard.

The rules are those of the Kubernetes Pod Security Standards (baseline, and restricted on top
of it), read off the compiled manifests, so what is checked is exactly what the cluster would
see. A violation is an error: Pod Security Admission would reject the pods. Each rule has its
own code, and the diagnostic points at the spec field that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secureai.compile.plan import Plan, Resource
from secureai.diagnostics import Diagnostic, SpecPath, error
from secureai.model.spec import Spec

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
    "persistentVolumeClaim",
    "projected",
    "secret",
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


@dataclass(frozen=True)
class Pod:
    """One workload's pod template, as the compiled manifest has it."""

    workload: str
    spec: Mapping[str, Any]
    annotations: Mapping[str, str]

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
    where: str  # "profile", "runAsUser", "ports", "workload" or "volumes/<name>"


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
        return value not in (None, "runtime/default") and not str(value).startswith("localhost/")

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
    def bad(ctx: Mapping[str, Any]) -> bool:
        options = ctx.get("seLinuxOptions", {})
        return options.get("type", "") not in SELINUX_TYPES or "user" in options or "role" in options

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


def _sysctls(pod: Pod) -> Iterator[Finding]:
    unsafe = sorted(
        s.get("name", "") for s in pod.context.get("sysctls", []) if s.get("name") not in SAFE_SYSCTLS
    )
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
    pod_level = pod.context.get("runAsNonRoot") is True
    bad = [
        c
        for c in pod.containers
        if _sc(c).get("runAsNonRoot") is False or (not pod_level and _sc(c).get("runAsNonRoot") is not True)
    ]
    if bad:
        yield Finding(
            "SA206",
            f"containers must run as non-root (runAsNonRoot: true) ({_names(bad)})",
            "profile",
        )


def _root_user(pod: Pod) -> Iterator[Finding]:
    contexts = [pod.context, *(_sc(c) for c in pod.containers)]
    if any(ctx.get("runAsUser") == 0 for ctx in contexts):
        yield Finding("SA207", "runAsUser must not be 0 (root)", "runAsUser")


def _seccomp_required(pod: Pod) -> Iterator[Finding]:
    ok = ("RuntimeDefault", "Localhost")
    pod_ok = _seccomp_type(pod.context) in ok
    bad = [c for c in pod.containers if not pod_ok and _seccomp_type(_sc(c)) not in ok]
    if bad:
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
        _path(spec, pod.workload, finding.where),
        hint=_hint(spec, pod.workload, finding.where),
    )


def _path(spec: Spec, workload: str, where: str) -> SpecPath:
    base: SpecPath = ("workloads", workload)
    w = spec.workloads.get(workload)
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
    return f"the cluster would reject its pods; {fix}"
