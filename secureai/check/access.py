"""RBAC grants are least-privilege: secrets by name, no listing of secrets, no wildcards unnoticed."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.spec import Access, AccessRule, Spec

_READS_ALL = {"list", "watch", "*"}
# The authorizer cannot match these against resourceNames (no name is known, or many are).
_NAMELESS_VERBS = {"create", "deletecollection"}
# Creating a secret shows no other secret's contents, and names cannot limit it anyway.
_DISCLOSES_NOTHING = {"create"}


def check_access(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = [*_implicit_accounts(spec)]
    for name, access in spec.access.items():
        for index, rule in enumerate(access.can):
            path: SpecPath = ("access", name, "can", index)
            out.extend(_shape(name, rule, path))
            if _touches_secrets(rule):
                out.extend(_secrets(name, access, rule, path))
    return out


def _touches_secrets(rule: AccessRule) -> bool:
    """Secrets are the core API group's `secrets`, or any wildcard that covers them."""
    return bool({"secrets", "*"} & set(rule.resources)) and bool({"", "*"} & set(rule.api_groups))


def _shape(name: str, rule: AccessRule, path: SpecPath) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if "*" in rule.verbs or "*" in rule.resources or "*" in rule.api_groups:
        out.append(
            warning(
                "SA163",
                f"service account '{name}' is granted a wildcard",
                path,
                hint="name the verbs, resources and API groups it needs",
            )
        )
    nameless = sorted(_NAMELESS_VERBS & set(rule.verbs))
    if rule.names and nameless:
        out.append(
            warning(
                "SA164",
                f"service account '{name}': 'names' cannot limit {'/'.join(nameless)}, so the rule "
                "grants nothing for them",
                (*path, "names"),
                hint="grant those verbs in a separate rule without names, if they are needed",
            )
        )
    return out


def _secrets(name: str, access: Access, rule: AccessRule, path: SpecPath) -> list[Diagnostic]:
    what = "secrets" if "secrets" in rule.resources else "every resource ('*'), secrets included"
    listing = sorted(_READS_ALL & set(rule.verbs))
    if listing and not access.allow_secret_listing:
        return [
            error(
                "SA161",
                f"service account '{name}' may {'/'.join(listing)} {what}, which returns "
                "the contents of every secret in reach",
                (*path, "verbs"),
                hint="grant 'get' on named secrets, or set 'allowSecretListing: true' if it truly must",
            )
        ]
    if listing:
        return [
            warning(
                "SA162",
                f"service account '{name}' may {'/'.join(listing)} {what} (allowSecretListing)",
                (*path, "verbs"),
            )
        ]
    if not rule.names and set(rule.verbs) - _DISCLOSES_NOTHING:
        return [
            error(
                "SA160",
                f"service account '{name}' is granted {what} without naming them",
                path,
                hint="add 'names: [...]' with the secrets it needs",
            )
        ]
    if rule.names and access.cluster_wide and set(rule.verbs) - _DISCLOSES_NOTHING:
        # resourceNames match by name only: a ClusterRoleBinding grants that name everywhere.
        return [
            warning(
                "SA165",
                f"service account '{name}' is granted secrets {', '.join(rule.names)} cluster-wide: "
                "a secret of that name in any namespace, not only the spec's",
                (*path, "names"),
                hint="drop 'clusterWide' so the grant stays in the account's namespace, or grant in "
                "a namespaced entry per namespace",
            )
        ]
    return []


def _implicit_accounts(spec: Spec) -> list[Diagnostic]:
    """A workload without `serviceAccount` runs as its own account, named after it; an `access`
    entry of that name in that namespace *is* that account, so its grants (and the API token
    mounted to use them) go to the workload. Said, unless the workload names the account."""
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        access = spec.access.get(name)
        if w.service_account is not None or access is None or access.namespace != w.namespace:
            continue
        out.append(
            warning(
                "SA103",
                f"access '{name}' has the name and namespace of workload '{name}', so it is that "
                "workload's own service account: the workload gets its grants and an API token",
                ("access", name),
                hint=f"if that is meant, say so with 'serviceAccount: {name}' on the workload; "
                "otherwise rename the access entry",
            )
        )
    return out
