"""CEL validations that enforce one security profile on a Pod, as admission policy rules.

Kept to the CEL both Kubernetes and cel-python evaluate: `has()`, `all()`, `exists()`, `in`,
`startsWith`, `contains`, `&&`/`||`/`!` and the conditional operator, no optional syntax.
Containers, initContainers and ephemeralContainers are checked by separate comprehensions:
Kubernetes types them differently, so concatenating the lists would not type-check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from secureai.model.spec import HostPath, SecurityProfile

_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class Rule:
    """One validation: a stable id (for tests and messages), the expression, the message."""

    id: str
    expression: str
    message: str


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cel_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(quote(i) for i in items) + "]"


def every_container(predicate: str) -> str:
    """`predicate` (over `c`) holds for every container of every kind."""
    parts = [f"object.spec.containers.all(c, {predicate})"]
    for field in _LISTS[1:]:
        parts.append(f"(!has(object.spec.{field}) || object.spec.{field}.all(c, {predicate}))")
    return " && ".join(parts)


def every_volume(predicate: str) -> str:
    return f"!has(object.spec.volumes) || object.spec.volumes.all(v, {predicate})"


def _set(path: str) -> str:
    """`c.securityContext.x` is present (each step guarded, since absent fields are errors)."""
    steps = path.split(".")
    first = 2 if path.startswith("object.spec.") else 1  # a Pod always has a spec
    return " && ".join(f"has({'.'.join(steps[: i + 1])})" for i in range(first, len(steps)))


def _true(path: str) -> str:
    return f"({_set(path)} && {path} == true)"


def _not_true(path: str) -> str:
    return f"!({_set(path)} && {path} == true)"


def profile_rules(profile: SecurityProfile, name: str) -> list[Rule]:
    """The validations of profile `name` (the name locates its default Localhost file)."""
    rules = [_volume_types(profile)]
    if "hostPath" in profile.volumes:
        rules.append(_host_path_prefixes(profile.allowed_host_paths))
        if any(h.read_only for h in profile.allowed_host_paths):
            rules.append(_host_path_read_only(profile.allowed_host_paths))
    if profile.read_only_root_filesystem:
        rules.append(
            Rule(
                "readOnlyRootFilesystem",
                every_container(_true("c.securityContext.readOnlyRootFilesystem")),
                "every container must set securityContext.readOnlyRootFilesystem: true",
            )
        )
    if not profile.privileged:
        rules.append(
            Rule(
                "privileged",
                every_container(_not_true("c.securityContext.privileged")),
                "privileged containers are not allowed",
            )
        )
        if not profile.allow_privilege_escalation:
            rules.append(_no_escalation())
    rules.extend(_host_namespaces(profile))
    rules.extend(_capabilities(profile))
    if profile.run_as_non_root:
        rules.append(_run_as_non_root())
    rules.append(_seccomp(profile, name))
    return rules


def _volume_types(profile: SecurityProfile) -> Rule:
    allowed = " || ".join(f"has(v.{t})" for t in profile.volumes) or "false"
    shown = ", ".join(profile.volumes) or "none"
    return Rule("volumes", every_volume(allowed), f"volume types must be one of: {shown}")


def _prefix_match(prefixes: Iterable[HostPath]) -> str:
    tests = []
    for allowed in prefixes:
        prefix = allowed.path_prefix.rstrip("/")
        if not prefix:  # "/" allows every absolute path
            tests.append("v.hostPath.path.startsWith('/')")
            continue
        path = "v.hostPath.path"
        tests.append(f"{path} == {quote(prefix)} || {path}.startsWith({quote(prefix + '/')})")
    return "(" + " || ".join(tests) + ")" if tests else "false"


def _host_path_prefixes(prefixes: list[HostPath]) -> Rule:
    # `..` could climb out of an allowed prefix, so a path containing it never matches.
    predicate = f"!has(v.hostPath) || (!v.hostPath.path.contains('..') && {_prefix_match(prefixes)})"
    shown = ", ".join(h.path_prefix for h in prefixes) or "none"
    return Rule("hostPathPrefix", every_volume(predicate), f"hostPath volumes must be under: {shown}")


def _host_path_read_only(prefixes: list[HostPath]) -> Rule:
    """A host path is writable only under a prefix that allows writing (as PSP decided it)."""
    writable = _prefix_match(h for h in prefixes if not h.read_only)
    mounts_read_only = every_container(
        "!has(c.volumeMounts) || c.volumeMounts.all(m, m.name != v.name || "
        "(has(m.readOnly) && m.readOnly == true))"
    )
    predicate = f"!has(v.hostPath) || {writable} || ({mounts_read_only})"
    shown = ", ".join(h.path_prefix for h in prefixes if h.read_only)
    return Rule(
        "hostPathReadOnly",
        every_volume(predicate),
        f"hostPath volumes under {shown} must be mounted readOnly: true",
    )


def _no_escalation() -> Rule:
    path = "c.securityContext.allowPrivilegeEscalation"
    return Rule(
        "allowPrivilegeEscalation",
        every_container(f"({_set(path)} && {path} == false)"),
        "every container must set securityContext.allowPrivilegeEscalation: false",
    )


def _host_namespaces(profile: SecurityProfile) -> list[Rule]:
    forbidden = [
        field
        for field, allowed in (
            ("hostNetwork", profile.host_network),
            ("hostPID", profile.host_pid),
            ("hostIPC", profile.host_ipc),
        )
        if not allowed
    ]
    if not forbidden:
        return []
    expression = " && ".join(_not_true(f"object.spec.{f}") for f in forbidden)
    return [Rule("hostNamespaces", expression, f"{', '.join(forbidden)} must not be true")]


def _capabilities(profile: SecurityProfile) -> list[Rule]:
    drops = "c.securityContext.capabilities.drop"
    adds = "c.securityContext.capabilities.add"
    allowed = cel_list(profile.allowed_capabilities)
    shown = ", ".join(profile.allowed_capabilities) or "none"
    return [
        Rule(
            "dropAll",
            every_container(f"({_set(drops)} && {drops}.exists(x, x == 'ALL'))"),
            "every container must drop ALL capabilities",
        ),
        Rule(
            "capabilities",
            every_container(f"!({_set(adds)}) || {adds}.all(x, x in {allowed})"),
            f"containers may add only these capabilities: {shown}",
        ),
    ]


def _run_as_non_root() -> Rule:
    pod = _true("object.spec.securityContext.runAsNonRoot")
    path = "c.securityContext.runAsNonRoot"
    not_false = f"!({_set(path)} && {path} == false)"
    expression = f"{pod} ? ({every_container(not_false)}) : ({every_container(_true(path))})"
    return Rule("runAsNonRoot", expression, "pods must run as non-root (runAsNonRoot: true)")


def _seccomp(profile: SecurityProfile, name: str) -> Rule:
    """Pod and containers use the profile's seccomp type; a Localhost one only its own file.

    Any other file on the node could be a permissive profile, so `localhostProfile` is pinned.
    """
    pod_path = "object.spec.securityContext.seccompProfile"
    path = "c.securityContext.seccompProfile"
    wanted = profile.seccomp_profile
    shown: str = wanted
    if wanted == "Localhost":
        file = profile.localhost_profile_path(name)
        shown = f"Localhost with localhostProfile {file}"

        def ok(p: str) -> str:
            pinned = f"has({p}.localhostProfile) && {p}.localhostProfile == {quote(file)}"
            return f"{p}.type == 'Localhost' && {pinned}"
    else:

        def ok(p: str) -> str:
            return f"{p}.type == {quote(wanted)}"

    pod_ok = f"({_set(pod_path)} && {ok(pod_path)})"
    container_unset_or_ok = f"(!({_set(path)}) || ({ok(path)}))"
    container_ok = f"({_set(path)} && {ok(path)})"
    expression = f"{pod_ok} ? ({every_container(container_unset_or_ok)}) : ({every_container(container_ok)})"
    return Rule("seccomp", expression, f"the seccomp profile must be {shown}")
