"""Who a security profile governs, and the names its cluster-scoped objects carry."""

from __future__ import annotations

from secureai.compile.naming import service_account_of
from secureai.model.spec import Spec


def cluster_name(spec: Spec, profile: str) -> str:
    """Cluster-scoped objects carry the project, so two projects on one cluster do not clash."""
    return f"{spec.project}-{profile}"


def profile_accounts(spec: Spec, profile: str) -> dict[str, list[str]]:
    """namespace -> service accounts of the workloads that use `profile`, in spec order."""
    out: dict[str, list[str]] = {}
    for name, w in spec.workloads.items():
        if w.security_profile == profile:
            accounts = out.setdefault(w.namespace, [])
            account = service_account_of(spec, name)
            if account not in accounts:
                accounts.append(account)
    return out
