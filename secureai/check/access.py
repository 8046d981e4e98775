"""RBAC grants are least-privilege: secrets by name, no listing of secrets, no wildcards unnoticed."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.spec import Access, AccessRule, Spec

_READS_ALL = {"list", "watch", "*"}


def check_access(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, access in spec.access.items():
        for index, rule in enumerate(access.can):
            out.extend(_rule(name, access, rule, ("access", name, "can", index)))
    return out


def _rule(name: str, access: Access, rule: AccessRule, path: SpecPath) -> list[Diagnostic]:
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
    if "secrets" not in rule.resources or "" not in rule.api_groups:
        return out
    listing = sorted(_READS_ALL & set(rule.verbs))
    if listing and not access.allow_secret_listing:
        out.append(
            error(
                "SA161",
                f"service account '{name}' may {'/'.join(listing)} secrets, which returns "
                "the contents of every secret in reach",
                (*path, "verbs"),
                hint="grant 'get' on named secrets, or set 'allowSecretListing: true' if it truly must",
            )
        )
    elif listing:
        out.append(
            warning(
                "SA162",
                f"service account '{name}' may {'/'.join(listing)} secrets (allowSecretListing)",
                (*path, "verbs"),
            )
        )
    if not rule.names and not listing:
        out.append(
            error(
                "SA160",
                f"service account '{name}' is granted secrets without naming them",
                path,
                hint="add 'names: [...]' with the secrets it needs",
            )
        )
    return out
