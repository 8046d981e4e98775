"""No two Plan resources may share a Plan key or the name the target knows them by.

Generated names join spec names with '-' (`<project>-<namespace>-<workload>` for a Vault
policy), so different entries can meet on one name: workload `b-c` in namespace `a` and
workload `c` in namespace `a-b`. Deployed, one would silently replace the other (a grant
lost); rendered, one file would overwrite the other. Such a spec is refused, naming both.
Generated secret values are keyed the same way (`<namespace>/<secret>/<key>` for a Kubernetes
Secret, `vault/<path>/<key>` for Vault data), so two entries that would share one value (and
one stored stack config key) are refused too.
"""

from __future__ import annotations

from secureai.compile.plan import SECRET_TYPES, Plan, Resource, iter_secrets
from secureai.diagnostics import Diagnostic, SpecPath, error


def identity(resource: Resource) -> tuple[str, ...]:
    """What the target calls the resource: Kubernetes group/kind/namespace/name, Vault's path."""
    props = resource.properties
    if resource.provider == "kubernetes":
        meta = props.get("metadata", {})
        group = str(props.get("apiVersion", "")).rpartition("/")[0]
        return (
            "kubernetes",
            group,
            str(props.get("kind")),
            str(meta.get("namespace", "")),
            str(meta.get("name")),
        )
    if "role_name" in props:
        return ("Vault auth role", str(props.get("backend")), str(props["role_name"]))
    if "policy" in props:
        return ("Vault policy", str(props.get("name")))
    if "mount" in props:
        return ("Vault KV secret", str(props["mount"]), str(props.get("name")))
    return (resource.type, str(props.get("name", resource.name)))


def check_collisions(plan: Plan) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_key: dict[str, Resource] = {}
    by_identity: dict[tuple[str, ...], Resource] = {}
    for resource in plan.resources:
        first = by_key.get(resource.key)
        if first is None:
            first = by_identity.get(identity(resource))
        if first is not None and first is not resource and _source(first) != _source(resource):
            out.append(_collision(first, resource))
            continue
        by_key.setdefault(resource.key, resource)
        by_identity.setdefault(identity(resource), resource)
    return out + _shared_generated_values(plan)


def _shared_generated_values(plan: Plan) -> list[Diagnostic]:
    # One ref is one stored value: the Kubernetes Secret `models` in namespace `vault` and the
    # Vault path `models` would silently get the same password.
    out: list[Diagnostic] = []
    first_at: dict[str, str] = {}
    for resource in plan.resources:
        if resource.type not in SECRET_TYPES:
            continue
        for _, value in iter_secrets(resource.properties):
            if value.source != "generate":
                continue
            where = _dotted(value.spec_path)
            first = first_at.setdefault(value.ref, where)
            if first != where:
                out.append(
                    error(
                        "SA255",
                        f"{where} and {first} would share one generated value (both are "
                        f"stored as '{value.ref}'); each would silently get the other's",
                        value.spec_path,
                        hint="rename one of them",
                    )
                )
    return out


def _collision(first: Resource, second: Resource) -> Diagnostic:
    what = identity(second)
    kind = what[2] if what[0] == "kubernetes" else what[0]
    name = what[-1]
    return error(
        "SA255",
        f"{_source(second)} and {_source(first)} would both become {kind} '{name}'; one would "
        "silently replace the other",
        second.source,
        hint="rename one of them (generated names join spec names with '-', so 'a' + 'b-c' "
        "meets 'a-b' + 'c')",
    )


def _source(resource: Resource) -> str:
    return _dotted(resource.source) or "the spec"


def _dotted(path: SpecPath) -> str:
    return ".".join(str(p) for p in path)
