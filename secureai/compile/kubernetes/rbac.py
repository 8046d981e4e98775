"""Service accounts (per access entry and per workload) and the RBAC grants of `access`."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.naming import service_account_of
from secureai.compile.plan import Resource
from secureai.model.spec import Access, AccessRule, Spec

RBAC = "rbac.authorization.k8s.io/v1"


def compile_service_accounts(spec: Spec) -> list[Resource]:
    """Every account a workload runs as, each created once; none mounts its token by default.

    Workloads that need an API token turn `automountServiceAccountToken` on in their pod
    spec, so the account itself never hands a token to pods that did not ask.
    """
    out: list[Resource] = []
    seen = set(not_created(spec))  # a copy: the cached set must not grow
    for name, access in spec.access.items():
        if (access.namespace, name) not in seen:
            seen.add((access.namespace, name))
            out.append(_account(access.namespace, name, ("access", name)))
    for name, w in spec.workloads.items():
        account = service_account_of(spec, name)
        if (w.namespace, account) not in seen:
            seen.add((w.namespace, account))
            out.append(_account(w.namespace, account, ("workloads", name)))
    return out


def not_created(spec: Spec) -> frozenset[tuple[str, str]]:
    """(namespace, account) of the accounts a chart or operator creates for the pods it manages:
    creating them too would make the chart's install fail on an object it does not own.

    Asked once per grant: kept for the last spec (recomputing it per grant made a spec with
    many grants and workloads quadratic)."""
    hit = _NOT_CREATED.get("last")
    if hit is None or hit[0] is not spec:
        found = frozenset(
            (w.namespace, service_account_of(spec, name))
            for name, w in spec.workloads.items()
            if not w.creates_account
        )
        hit = (spec, found)
        _NOT_CREATED["last"] = hit
    return hit[1]


_NOT_CREATED: dict[str, tuple[Spec, frozenset[tuple[str, str]]]] = {}


def account_keys(spec: Spec, namespace: str, accounts: list[str]) -> tuple[str, ...]:
    """The Plan keys of those of `accounts` secureai creates, for `depends_on`."""
    skip = not_created(spec)
    return tuple(key_of("v1", "ServiceAccount", namespace, a) for a in accounts if (namespace, a) not in skip)


def _account(namespace: str, name: str, source: tuple[str, ...]) -> Resource:
    body = {"automountServiceAccountToken": False}
    return resource("v1", "ServiceAccount", name, namespace, body, source)


def compile_access(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, access in spec.access.items():
        if access.can:
            out.extend(_grant(spec, name, access))
    return out


def _grant(spec: Spec, name: str, access: Access) -> list[Resource]:
    ns = access.namespace
    source = ("access", name)
    rules = [_rule(r) for r in access.can]
    account = account_keys(spec, ns, [name])
    subject = {"kind": "ServiceAccount", "name": name, "namespace": ns}
    if not access.cluster_wide:
        role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        binding = {"roleRef": role_ref, "subjects": [subject]}
        return [
            resource(RBAC, "Role", name, ns, {"rules": rules}, source),
            resource(
                RBAC,
                "RoleBinding",
                name,
                ns,
                binding,
                source,
                depends_on=(key_of(RBAC, "Role", ns, name), *account),
            ),
        ]
    # Cluster-scoped names carry project and namespace: accounts of the same name in two
    # namespaces (or two projects) must not share a role.
    cluster = f"{spec.project}:{ns}:{name}"
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster}
    binding = {"roleRef": role_ref, "subjects": [subject]}
    # The logical name keeps the namespace so it stays unique per type like the others.
    role = resource(RBAC, "ClusterRole", cluster, None, {"rules": rules}, source, logical=f"{ns}/{name}")
    bind = resource(
        RBAC,
        "ClusterRoleBinding",
        cluster,
        None,
        binding,
        source,
        logical=f"{ns}/{name}",
        depends_on=(f"{role.type}::{role.name}", *account),
    )
    return [role, bind]


def _rule(rule: AccessRule) -> Manifest:
    out: Manifest = {
        "apiGroups": list(rule.api_groups),
        "resources": list(rule.resources),
        "verbs": list(rule.verbs),
    }
    if rule.names:
        # Written as asked, never widened. Kubernetes cannot match `create` or
        # `deletecollection` by name (such a grant allows nothing), and `list`/`watch` match
        # only requests with a `metadata.name` field selector; warning about that belongs to
        # the access check, not here.
        out["resourceNames"] = list(rule.names)
    return out
